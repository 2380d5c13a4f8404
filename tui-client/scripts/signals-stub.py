#!/usr/bin/env python3
"""A stand-in for signals-svc, for tui-client's e2e check only.

Serves the signals-svc JSON contract (issue 5) over HTTP from a deterministic random walk per
symbol, so the dashboard's signal panes can be exercised end to end before signals-svc lands.
It is not the service: indicators are computed simply (SMA bands, Wilder RSI) and only the
GET endpoints the dashboard uses exist.

Usage: signals-stub.py PORT [SYMBOL ...]
"""

import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

N = 300


def series(symbol):
    rng = random.Random(symbol)
    close, p = [], 100.0 + rng.random() * 50
    drift = rng.choice([-0.004, 0.0, 0.004])
    for i in range(N):
        p *= math.exp(rng.gauss(drift if i > N - 25 else 0.0, 0.003))
        if i == N - 1 and drift:
            p *= math.exp(math.copysign(0.015, drift))  # a last jump out of the bands
        close.append(round(p, 4))
    start = datetime(2024, 12, 30, 14, 30, tzinfo=timezone.utc)
    ts = [(start + timedelta(minutes=5 * i)).isoformat().replace("+00:00", "Z") for i in range(N)]
    rsi, up, mid, lo = [None] * N, [None] * N, [None] * N, [None] * N
    gain = loss = 0.0
    for i in range(1, N):
        ch = close[i] - close[i - 1]
        g, l_ = max(ch, 0.0), max(-ch, 0.0)
        if i <= 14:
            gain += g / 14
            loss += l_ / 14
        else:
            gain = (gain * 13 + g) / 14
            loss = (loss * 13 + l_) / 14
        if i >= 14:
            rsi[i] = 100.0 if loss == 0 else 100 - 100 / (1 + gain / loss)
    for i in range(19, N):
        w = close[i - 19 : i + 1]
        m = sum(w) / 20
        sd = math.sqrt(sum((x - m) ** 2 for x in w) / 20)
        mid[i], up[i], lo[i] = m, m + 2 * sd, m - 2 * sd
    return ts, close, rsi, up, mid, lo


def latest(symbol):
    ts, close, rsi, up, mid, lo = series(symbol)
    c, r, u, m, lw = close[-1], rsi[-1], up[-1], mid[-1], lo[-1]
    pb = (c - lw) / (u - lw) if u != lw else None
    reasons, signal = [], "flat"
    if r < 30:
        reasons.append("RSI below 30")
    if r > 70:
        reasons.append("RSI above 70")
    if c < lw:
        reasons.append("close below lower band")
    if c > u:
        reasons.append("close above upper band")
    if c < lw and r < 30:
        signal = "long"
    elif c > u and r > 70:
        signal = "short"
    return {
        "timestamp": ts[-1], "close": c, "rsi": r, "bb_upper": u, "bb_middle": m,
        "bb_lower": lw, "percent_b": pb, "bandwidth": (u - lw) / m, "signal": signal,
        "reasons": reasons,
    }


class Handler(BaseHTTPRequestHandler):
    symbols = []

    def send(self, code, body, ctype="application/json"):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        interval = q.get("interval", ["5m"])[0]
        parts = url.path.strip("/").split("/")
        if url.path == "/health":
            return self.send(200, {"status": "ok", "service": "signals-stub"})
        if url.path == "/ready":
            return self.send(200, {"symbols": len(self.symbols)})
        if url.path == "/v1/assets":
            return self.send(200, [{"symbol": s, "bars": N} for s in self.symbols])
        if url.path == "/v1/signals":
            rows = []
            for s in self.symbols:
                l_ = latest(s)
                rows.append({k: l_[k] for k in ("close", "rsi", "percent_b", "bandwidth", "signal", "reasons")} | {"symbol": s})
            return self.send(200, {"interval": interval, "rows": rows})
        if len(parts) == 4 and parts[:2] == ["v1", "assets"] and parts[3] == "signals":
            s = parts[2]
            if s not in self.symbols:
                return self.send(404, {"type": "/problems/not-found", "title": "Not Found", "status": 404,
                                       "detail": f"unknown symbol '{s}'", "field": "symbol"},
                                 "application/problem+json")
            limit = int(q.get("limit", [N])[0])
            ts, close, rsi, up, mid, lo = (x[-limit:] for x in series(s))
            return self.send(200, {"symbol": s, "interval": interval, "latest": latest(s), "points": {
                "timestamps": ts, "close": close, "rsi": rsi, "bb_upper": up, "bb_middle": mid, "bb_lower": lo}})
        return self.send(404, {"type": "/problems/not-found", "title": "Not Found", "status": 404,
                               "detail": f"no route {url.path}"}, "application/problem+json")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Handler.symbols = sys.argv[2:] or ["AAPL", "MSFT"]
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
