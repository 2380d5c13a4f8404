#!/usr/bin/env python3
"""Writes a small stand-in for the bundled data, for the smoke test when data/ has no CSVs yet.

    standin_data.py DIR  ->  DIR/simulated_daily_data.csv  (date,symbol,close; 8 symbols x 750 days)
                             DIR/simulated_5min_data.csv   (timestamp,symbol,open,high,low,close,volume)

GARCH(1,1) returns with a fixed seed, so runs are repeatable. Not the real data set: only what the
services need to load, fit and serve.
"""
import datetime as dt
import math
import random
import sys
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(20261123)
symbols = [f"SIM{i:02d}" for i in range(1, 9)]

days = []
d = dt.date(2021, 1, 4)
while len(days) < 750:
    if d.weekday() < 5:
        days.append(d)
    d += dt.timedelta(days=1)

with open(out / "simulated_daily_data.csv", "w") as f:
    f.write("date,symbol,close\n")
    for k, sym in enumerate(symbols):
        omega, alpha, beta = 0.02 + 0.01 * k, 0.05 + 0.01 * (k % 3), 0.90 - 0.01 * (k % 3)
        var, price = omega / (1 - alpha - beta), 100.0 + 10 * k
        for day in days:
            r = math.sqrt(var) * rng.gauss(0, 1)
            price *= math.exp(r / 100)
            f.write(f"{day.isoformat()},{sym},{price:.4f}\n")
            var = omega + alpha * r * r + beta * var

with open(out / "simulated_5min_data.csv", "w") as f:
    f.write("timestamp,symbol,open,high,low,close,volume\n")
    start = dt.datetime(2024, 8, 26, 13, 30, tzinfo=dt.timezone.utc)
    for k, sym in enumerate(symbols):
        price = 100.0 + 10 * k
        for day in range(3):
            for bar in range(78):
                t = start + dt.timedelta(days=day, minutes=5 * bar)
                o = price
                c = o * math.exp(rng.gauss(0, 0.0015))
                hi = max(o, c) * (1 + abs(rng.gauss(0, 0.0005)))
                lo = min(o, c) * (1 - abs(rng.gauss(0, 0.0005)))
                vol = rng.randint(1000, 50000)
                f.write(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{sym},{o:.4f},{hi:.4f},{lo:.4f},{c:.4f},{vol}\n")
                price = c
