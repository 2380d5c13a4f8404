#!/usr/bin/env python3
"""arch 8.0's own rolling loop, timed for the ratio behind issue #16's "arch's loop >= 500x as long".

The loop is arch's advice for rolling backtests: for each estimation window
``fit(first_obs, last_obs, starting_values=previous.params)`` (warm starts; the first window from
arch's own starting values) and then ``forecast(horizon=1, start=last_obs - 1)``, the one-step
forecasts of the days the window's parameters cover (arch computes them from that origin to the
end of the data, which is what a user of ``forecast(start=…)`` pays).

Two ways to run it:

* by ``market-svc bench --workload backtest`` (the arch arm, measured in the same run)::

      python scripts/bench/arch_rolling_timing.py --input job.json --output arch.json [--repeats 3]

  Input JSON: {"model": "garch"|"gjr"|"egarch", "dist": "normal"|"t"|"skewt"|"ged",
  "mean": "constant"|"zero", "window": W, "refit_every": k, "windows": N, "returns": [...]}.
  Output JSON: versions, the median wall time over the repeats of the first N windows, and
  each window's log-likelihood. Exit code 3 when arch is not importable.

* by hand, against the CLI (the original form: N windows of arch, scaled per refit, against
  the whole ``market-svc backtest`` process on one bundled symbol)::

      /work/venv-arch/bin/python scripts/bench/arch_rolling_timing.py BIN [N]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    import arch
    import numpy as np
    import pandas as pd
    from arch import arch_model
except ImportError as exc:  # the bench reports this and skips the arm
    print(f"arch is not available: {exc}", file=sys.stderr)
    sys.exit(3)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "simulated_daily_data.csv"
SYMBOL = "ACME"
WINDOW = 1000


def model_for(y, spec):
    vol = {"garch": "GARCH", "gjr": "GARCH", "egarch": "EGARCH"}[spec["model"]]
    o = 1 if spec["model"] in ("gjr", "egarch") else 0
    dist = {"normal": "normal", "t": "t", "skewt": "skewt", "ged": "ged"}[spec["dist"]]
    mean = {"constant": "Constant", "zero": "Zero"}[spec["mean"]]
    return arch_model(y, mean=mean, vol=vol, p=1, o=o, q=1, dist=dist, rescale=False)


def rolling(am, window, refit_every, n):
    """arch's loop over the first n windows; returns each window's log-likelihood."""
    prev, loglik = None, []
    for j in range(n):
        first = j * refit_every
        res = am.fit(first_obs=first, last_obs=first + window, disp="off", starting_values=prev)
        res.forecast(horizon=1, start=first + window - 1, reindex=False)
        prev = res.params.to_numpy()
        loglik.append(float(res.loglikelihood))
    return loglik


def json_mode(args) -> None:
    with open(args.input) as f:
        job = json.load(f)
    y = pd.Series(np.asarray(job["returns"], dtype=float))
    am = model_for(y, job)
    window, k, n = int(job["window"]), int(job["refit_every"]), int(job["windows"])
    rolling(am, window, k, 1)  # warm-up (imports, caches), not timed
    times, loglik = [], []
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        loglik = rolling(am, window, k, n)
        times.append(time.perf_counter() - t0)
    out = {
        "arch_version": arch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "windows": n,
        "seconds": times,
        "seconds_median": statistics.median(times),
        "log_likelihood": loglik,
    }
    with open(args.output, "w") as f:
        json.dump(out, f)


def cli_mode(binary: str, n: int) -> None:
    df = pd.read_csv(DATA)
    px = df[df["symbol"] == SYMBOL]["close"].to_numpy()
    y = pd.Series(100 * np.diff(np.log(px)))
    am = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal")
    t0 = time.perf_counter()
    rolling(am, WINDOW, 1, n)
    arch_per = (time.perf_counter() - t0) / n
    refits = len(y) - WINDOW
    t0 = time.perf_counter()
    subprocess.run(
        [binary, "backtest", "--input", str(DATA), "--symbol", SYMBOL, "--window", str(WINDOW),
         "--refit-every", "1"],
        check=True, stdout=subprocess.DEVNULL,
    )
    rust_per = (time.perf_counter() - t0) / refits
    print(f"arch: {arch_per * 1e3:.2f} ms per refit+forecast ({n} windows, warm starts)")
    print(f"market-svc backtest: {rust_per * 1e6:.1f} us per refit ({refits} refits, whole process)")
    print(f"ratio arch / rust: {arch_per / rust_per:.0f}x")


def main() -> None:
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        cli_mode(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    json_mode(ap.parse_args())


if __name__ == "__main__":
    main()
