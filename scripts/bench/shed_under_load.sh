#!/usr/bin/env bash
# The work budget under load: heavy posted fits saturate the machine (scripts/bench/heavy_fits.py)
# while wrk reads a cached forecast. Prints the fits' status split (200 vs 503 shed) and wrk's
# latency distribution. Needs wrk (apt-get install wrk) and a release build of market-svc.
#   scripts/bench/shed_under_load.sh [PORT]
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${1:-18301}
bin=${MARKET_SVC_BIN:-target/release/market-svc}
[ -x "$bin" ] || { echo "build it first: cargo build --release -p market-svc" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }
"$bin" serve --addr "127.0.0.1:$port" >/tmp/shed-under-load.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
url="http://127.0.0.1:$port/v1/assets/ACME/volatility"
curl -fs "$url" >/dev/null   # cached from here on
echo "== CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "== baseline: wrk on the cached GET, no other load"
wrk -t1 -c4 -d10s --latency "$url" | sed -n '/Latency Distribution/,/Requests\/sec/p'
echo "== under load: 8 clients posting EGARCH-t fits of 50,000 returns (horizon 1000) for 25 s"
python3 scripts/bench/heavy_fits.py --url "http://127.0.0.1:$port" --clients 8 --seconds 25 >/tmp/heavy-fits.json &
load=$!
sleep 3
wrk -t1 -c4 -d20s --latency "$url" | sed -n '/Latency Distribution/,/Requests\/sec/p'
wait $load
cat /tmp/heavy-fits.json
