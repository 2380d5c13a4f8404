#!/usr/bin/env python3
"""Posts heavy fits to market-svc from many clients at once and reports the status split.

Each request is an EGARCH-t fit of N simulated-looking returns with a 1,000-day (simulated)
forecast: about a second of CPU, so a few concurrent clients saturate a small machine. Used by
``shed_under_load.sh`` to show that the work budget sheds (503 + Retry-After) instead of
queuing, while cached reads keep their latency. Standard library only.

    python3 scripts/bench/heavy_fits.py --url http://127.0.0.1:8001 --clients 8 --seconds 25
"""

import argparse
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter


def body(n: int) -> bytes:
    returns = [((i * 7919 % 1000) / 500.0 - 1.0) * (1.0 + (i % 17) / 10.0) for i in range(n)]
    return json.dumps({"returns": returns, "model": "egarch", "dist": "t", "horizon": 1000}).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8001")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--obs", type=int, default=50_000)
    ap.add_argument("--token", default=None)
    args = ap.parse_args()
    payload = body(args.obs)
    statuses: Counter = Counter()
    latencies: dict = {}
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client() -> None:
        while time.monotonic() < deadline:
            req = urllib.request.Request(
                f"{args.url}/v1/volatility/fit", data=payload, method="POST",
                headers={"content-type": "application/json"})
            if args.token:
                req.add_header("authorization", f"Bearer {args.token}")
            start = time.monotonic()
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    code = r.status
                    r.read()
            except urllib.error.HTTPError as e:
                code = e.code
                retry = e.headers.get("retry-after")
                e.read()
                if code == 503 and retry:
                    time.sleep(float(retry) / 10)  # a polite client would wait the full value
            except OSError:
                code = 0
            with lock:
                statuses[code] += 1
                latencies.setdefault(code, []).append(time.monotonic() - start)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {}
    for code, lat in sorted(latencies.items()):
        lat.sort()
        out[str(code)] = {
            "count": statuses[code],
            "median_s": round(lat[len(lat) // 2], 4),
            "max_s": round(lat[-1], 4),
        }
    print(json.dumps({"clients": args.clients, "seconds": args.seconds, "obs": args.obs,
                      "by_status": out}, indent=2))


if __name__ == "__main__":
    main()
