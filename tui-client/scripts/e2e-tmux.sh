#!/usr/bin/env bash
# End-to-end check of the dashboard in a real terminal: tmux runs tui-client detached, keys are
# sent with send-keys, the screen is read with capture-pane and grepped, and after `q` the
# script checks that the process exited 0 and left the terminal sane (alternate screen off,
# cursor visible, canonical mode and echo back on).
#
# Pass 1: the default mode, the project's main job: market-svc and signals-svc in-process on the
# bundled data in data/, every view. Pass 2: --signals-url pointing at a closed port, so the
# signal panes must show their error state while the rest keeps working.
#
# Usage: tui-client/scripts/e2e-tmux.sh            (from anywhere; builds the debug binary)
# Env:   TUI_CLIENT_BIN   use this binary instead of building
#        E2E_OUT          keep the captures in this directory (default: a temp dir)
#        E2E_TIMEOUT      seconds to wait for data (default 180)
# Exit status: 0 when every check passed, 1 otherwise (the failing screen is printed).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

timeout_s="${E2E_TIMEOUT:-180}"
out="${E2E_OUT:-$(mktemp -d -t tui-e2e.XXXXXX)}"
mkdir -p "$out"
session="tui-e2e-$$"

cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    echo "----- screen -----" >&2
    tmux capture-pane -p -t "$session" >&2 2>/dev/null || true
    echo "------------------" >&2
    exit 1
}
pass() { echo "ok   $*"; }

if [[ -n "${TUI_CLIENT_BIN:-}" ]]; then
    bin="$TUI_CLIENT_BIN"
else
    cargo build -q -p tui-client
    target_dir="${CARGO_TARGET_DIR:-$root/target}"
    bin="$target_dir/debug/tui-client"
fi
[[ -x "$bin" ]] || { echo "no binary at $bin" >&2; exit 1; }

data_dir="$root/data"
[[ -f "$data_dir/simulated_daily_data.csv" && -f "$data_dir/simulated_5min_data.csv" ]] ||
    { echo "bundled data missing in $data_dir" >&2; exit 1; }

screen() { tmux capture-pane -p -t "$session"; }

# wait_for REGEX [SECONDS]: polls the screen until it matches.
wait_for() {
    local re="$1" limit="${2:-$timeout_s}" start=$SECONDS
    while ((SECONDS - start < limit)); do
        if screen | grep -Eq -- "$re"; then return 0; fi
        sleep 0.3
    done
    fail "timed out after ${limit}s waiting for /$re/"
}

# expect REGEX: the current screen matches now.
expect() { screen | grep -Eq -- "$1" || fail "screen does not match /$1/"; }

keys() { tmux send-keys -t "$session" "$@"; }

# start NAME ARGS...: runs the dashboard in a fresh 80x24 session; when it exits, the pane's
# shell records the exit code and the terminal modes, then waits to be inspected.
start() {
    local name="$1"; shift
    rm -f "$out/$name.exit" "$out/$name.stty"
    tmux kill-session -t "$session" 2>/dev/null || true
    tmux new-session -d -s "$session" -x 80 -y 24 \
        "$(printf '%q ' "$bin" "$@"); echo \$? >'$out/$name.exit'; stty -a >'$out/$name.stty'; sleep 600"
}

# quit NAME: q, then the process must exit 0 and leave the terminal as it found it.
quit() {
    local name="$1" start=$SECONDS
    keys q
    while [[ ! -s "$out/$name.stty" ]]; do
        ((SECONDS - start < 10)) || fail "tui-client did not exit within 10s of q"
        sleep 0.2
    done
    local code
    code="$(cat "$out/$name.exit")"
    [[ "$code" == 0 ]] || fail "tui-client exited with $code"
    pass "q quits, exit code 0"
    [[ "$(tmux display-message -p -t "$session" '#{alternate_on}')" == 0 ]] ||
        fail "alternate screen still on after exit"
    [[ "$(tmux display-message -p -t "$session" '#{cursor_flag}')" == 1 ]] ||
        fail "cursor hidden after exit"
    grep -Eq '(^| )icanon( |$)' "$out/$name.stty" || fail "terminal left without icanon (raw mode)"
    grep -Eq '(^| )echo( |$)' "$out/$name.stty" || fail "terminal left without echo"
    pass "terminal restored (main screen, cursor visible, icanon, echo)"
}

echo "== pass 1: default (both services in-process on the bundled data); captures in $out"
start pass1 --data-dir "$data_dir" --refresh 2

wait_for 'Screener [1-9][0-9]*/[1-9]'
wait_for 'market up'
wait_for 'signals up'
wait_for '^│> [^ ]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +(long|short|flat)'
screen >"$out/screener-80x24.txt"
expect '1 Screener \| 2 Detail \| 3 Risk \| 4 Bench \| 5 Status'
expect 'Symbol\^ +Vol% +Persist +RSI +%B +Signal'
pass "screener merges vol forecasts with RSI, %B and signals at 80x24"
first="$(screen | sed -n 's/^│> \([A-Za-z0-9._^-]*\) .*/\1/p' | head -1)"
[[ -n "$first" ]] || fail "no selected row"
total="$(screen | sed -n 's/.*Screener [0-9]*\/\([0-9]*\).*/\1/p' | head -1)"

keys s
wait_for 'sort vol'
expect 'Vol%v'
keys s
wait_for 'sort persistence'
keys S
wait_for 'Persist\^'
pass "s/S cycle the sort column and direction"

keys / "$first" Enter
wait_for "Screener [0-9]+/$total .*filter '$first'"
expect "^│> $first "
keys Escape
wait_for "Screener $total/$total"
pass "/ filters to $first, Esc clears"

tmux resize-window -t "$session" -x 120 -y 40
wait_for 'LongRun +HalfLife +Persist'
screen >"$out/screener-120x40.txt"
tmux resize-window -t "$session" -x 80 -y 24
wait_for 'Symbol\^|Symbolv|Symbol '
pass "a 120x40 terminal gets the wide columns"

keys g Enter
wait_for 'Fit: GARCH\(1,1\) normal'
wait_for 'converged \(|NOT converged'
wait_for 'param +value +± s.e.'
expect 'Forecast 10d: σ'
wait_for 'Price 5m: close, BB\(20,2\), mid'
wait_for 'RSI\(14\): RSI, 70, 30'
screen | grep -q 'signals-svc:' && fail "signals pane in error state"
screen >"$out/detail-80x24.txt"
pass "Enter opens the detail: fit table, forecast, price with bands, RSI"

keys m
wait_for 'Fit: GJR\(1,1,1\) normal'
wait_for 'gamma'
keys d
wait_for 'Fit: GJR\(1,1,1\) Student-t'
wait_for 'nu '
keys +
wait_for 'h=21d'
wait_for 'Forecast 21d: σ'
keys j
wait_for 'converged \(|NOT converged'
pass "m/d/+ switch model, distribution and horizon; j moves to the next symbol"
keys m m d d d - # back to GARCH normal h=10 (d cycles t, skew-t, GED, normal)
wait_for 'GARCH\(1,1\) normal h=10d'

keys Tab
wait_for 'Models \(refit every 20, w 1000\)'
wait_for 'VaR  exc/exp +Kupiec p +CC p' 600
wait_for 'Basel' 600
wait_for '#  model  law +QLIKE +DM p +BIC' 600
expect 'ret %: VaR 5%'
screen >"$out/risk-80x24.txt"
pass "risk view: VaR chart, coverage table, traffic light and model ranking (202s polled)"

# With nats-server installed the dashboard starts it and two workers, and the distributed
# rows run; without it they read "unavailable" with the service's 503 detail.
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] \
    || [ -x /usr/local/bin/nats-server ]; then
    nats=yes
else
    nats=no
fi

keys Tab
wait_for 'Press b or Enter to run'
keys b
wait_for 'parallel speedup: [0-9.]+x' 600
if [ "$nats" = yes ]; then
    wait_for 'distributed +[0-9.]+ s +[0-9.]+ +[0-9]+/[0-9]+ +done' 120
else
    wait_for 'unavailable: '
fi
expect 'sequential +[0-9.]+ s'
screen >"$out/benchmark-80x24.txt"
pass "benchmark: sequential, parallel and distributed (nats-server installed: $nats) refits"

keys B
wait_for 'backtesting GARCH\(1,1\) normal'
wait_for 'bit-identical ✓' 900
if [ "$nats" = yes ]; then
    wait_for 'distributed +[0-9.]+ s +[0-9]+ +[0-9.]+x' 120
else
    wait_for 'distributed: mode=distributed' 60
fi
expect 'parallel +[0-9.]+ s +[0-9]+ +[0-9.]+x'
screen >"$out/benchmark-backtest-80x24.txt"
pass "universe backtest: the modes bit-identical, distributed run or its 503 shown (nats: $nats)"

keys Tab
wait_for 'market-svc - refresh every 2s'
expect 'health  up'
expect 'ready   ready'
screen | grep -q 'health  down' && fail "a service is down"
screen >"$out/status-80x24.txt"
pass "status: services up and ready"

keys '?'
wait_for 'Help - keys'
keys x
sleep 0.5
screen | grep -q 'Help - keys' && fail "help overlay did not close"
pass "? opens the help overlay, any key closes it"

quit pass1

echo "== pass 2: signals-svc unreachable (--signals-url to a closed port)"
start pass2 --data-dir "$data_dir" --signals-url "http://127.0.0.1:9" --refresh 2
wait_for 'market up'
wait_for 'Screener [1-9][0-9]*/[1-9]'
wait_for 'signals-svc:'
screen >"$out/screener-signals-down-80x24.txt"
pass "signals down: its panes show the error, the volatility columns still work"
quit pass2

echo "e2e: all checks passed (captures in $out)"
