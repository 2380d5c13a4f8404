#!/usr/bin/env python3
"""Times Python `arch`'s fit on the series `market-svc bench` wrote, for the comparison arm.

Usage (the bench calls it; it can also be run by hand):

    python3 scripts/bench/arch_fit_timing.py --input series.json --output arch.json [--repeats 3]

Input JSON: {"model": "garch"|"gjr"|"egarch", "dist": "normal"|"t"|"skewt"|"ged",
             "mean": "constant"|"zero",
             "series": [{"symbol": str, "returns": [float, ...]}, ...]}
Output JSON: versions, the median total wall time over the repeats (one fit of every series per
repeat, sequentially, like the Rust sequential arm), per-series median times and
log-likelihoods. Exit code 3 when arch is not importable (the bench then skips the arm).
"""

import argparse
import json
import platform
import statistics
import sys
import time

try:
    import arch
    import numpy as np
    from arch import arch_model
except ImportError as exc:  # the bench reports this and skips the arm
    print(f"arch is not available: {exc}", file=sys.stderr)
    sys.exit(3)


def model_for(returns, spec):
    vol = {"garch": "GARCH", "gjr": "GARCH", "egarch": "EGARCH"}[spec["model"]]
    o = 1 if spec["model"] in ("gjr", "egarch") else 0
    dist = {"normal": "normal", "t": "t", "skewt": "skewt", "ged": "ged"}[spec["dist"]]
    mean = {"constant": "Constant", "zero": "Zero"}[spec["mean"]]
    return arch_model(returns, mean=mean, vol=vol, p=1, o=o, q=1, dist=dist, rescale=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with open(args.input) as f:
        job = json.load(f)
    series = [(s["symbol"], np.asarray(s["returns"], dtype=float)) for s in job["series"]]

    # Warm-up (imports, numba/scipy caches) on the first series, not timed.
    model_for(series[0][1], job).fit(disp="off")

    totals, per_series = [], {sym: [] for sym, _ in series}
    loglik, converged = {}, {}
    for _ in range(max(1, args.repeats)):
        t0 = time.perf_counter()
        for sym, r in series:
            s0 = time.perf_counter()
            res = model_for(r, job).fit(disp="off")
            per_series[sym].append(time.perf_counter() - s0)
            loglik[sym] = float(res.loglikelihood)
            converged[sym] = int(res.convergence_flag) == 0
        totals.append(time.perf_counter() - t0)

    out = {
        "arch_version": arch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "repeats": len(totals),
        "total_seconds": totals,
        "total_seconds_median": statistics.median(totals),
        "series": [
            {
                "symbol": sym,
                "seconds_median": statistics.median(per_series[sym]),
                "log_likelihood": loglik[sym],
                "converged": converged[sym],
            }
            for sym, _ in series
        ],
    }
    with open(args.output, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
