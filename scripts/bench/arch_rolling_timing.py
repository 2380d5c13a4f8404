#!/usr/bin/env python3
"""arch 8.0's own rolling loop on one bundled symbol, timed against `market-svc backtest` in the
same run: the ratio behind issue #16's "arch's loop >= 500x as long".

arch: window 1000, daily refits, warm starts (``fit(first_obs, last_obs,
starting_values=previous.params)``, arch's advice) plus the one-step forecast of each day, on
the first N windows (a subset: a full run of 1,519 refits takes minutes), scaled per refit.
Rust: the full backtest of the same symbol (all 1,519 daily refits, table output), wall time of
the process. Prints both per-refit times and the ratio.

    /work/venv-arch/bin/python scripts/bench/arch_rolling_timing.py BIN [N]
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from arch import arch_model

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "simulated_daily_data.csv"
SYMBOL = "ACME"
WINDOW = 1000


def main() -> None:
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    df = pd.read_csv(DATA)
    px = df[df["symbol"] == SYMBOL]["close"].to_numpy()
    y = pd.Series(100 * np.diff(np.log(px)))
    am = arch_model(y, mean="Constant", vol="GARCH", p=1, q=1, dist="normal")
    prev = None
    t0 = time.perf_counter()
    for j in range(n):
        res = am.fit(first_obs=j, last_obs=j + WINDOW, disp="off", starting_values=prev)
        res.forecast(horizon=1, start=j + WINDOW - 1, reindex=False)
        prev = res.params.to_numpy()
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


if __name__ == "__main__":
    main()
