#!/usr/bin/env bash
# End-to-end smoke test of the compose stack:
#   build the images, generate the stack's credentials (compose/secrets.sh into a temporary env
#   file), `up -d` (nats + market-svc + signals-svc + 2 workers), wait until every container is
#   healthy, check that NATS is not published and refuses a client without the token, curl each
#   service's key endpoints (with and without the bearer token), run a distributed refit through
#   market-svc with two workers, kill one worker during a refit and check the job still
#   completes, then `down -v`.
#
# Works where Docker cannot reach a registry: if the base images are neither present nor
# pullable it builds local equivalents from Debian's packages (compose/build-base-images.sh) and
# vendors the crates on the host into the build context (compose/cargo/, git-ignored).
#
# Usage: compose/smoke.sh            (from anywhere; needs bash, curl, docker, python3)
# Environment:
#   BUILD_MODE=container|host   container (default): compile inside the builder image;
#                               host: `cargo build --release` here, then copy the binaries into
#                               the runtime images (compose/Dockerfile.prebuilt)
#   SMOKE_LOCAL_BASE=1          do not try to pull; use/build the local base images
#   CARGO_VENDOR=auto|1|0       vendor crates into the context (auto: when base images are local)
#   DATA_DIR=PATH               data folder (default: ../data; a small generated stand-in is used
#                               when its two CSV files are missing)
#   KEEP_UP=1                   leave the stack running at the end (no `down -v`)
#   MARKET_PORT, SIGNALS_PORT   published ports (default 8001, 8002)
# Exit status: 0 all checks passed (SKIPPED parts are listed), 1 a check failed or no Docker.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$HERE"

export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-garch-smoke}"
export MARKET_PORT="${MARKET_PORT:-8001}" SIGNALS_PORT="${SIGNALS_PORT:-8002}"
export BIND_ADDR=127.0.0.1
BUILD_MODE="${BUILD_MODE:-container}"
MARKET="http://127.0.0.1:$MARKET_PORT"
SIGNALS="http://127.0.0.1:$SIGNALS_PORT"
T0=$(date +%s)
PASSED=0
FAILED=0
SKIPPED=()

log() { printf '[smoke %4ds] %s\n' "$(($(date +%s) - T0))" "$*"; }
pass() {
    PASSED=$((PASSED + 1))
    log "ok   $*"
}
fail() {
    FAILED=$((FAILED + 1))
    log "FAIL $*"
}
die() {
    log "error: $*"
    exit 1
}

# --- 0. prerequisites -------------------------------------------------------------------------
if ! command -v docker >/dev/null 2>&1; then
    die "no Docker engine on this machine (docker CLI not installed); the smoke test needs one"
fi
if ! docker info >/dev/null 2>&1; then
    die "no Docker engine answers (docker info failed: is dockerd running, may this user use it?)"
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
else
    die "neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install docker-compose)"
fi
log "compose: ${COMPOSE[*]}; build mode: $BUILD_MODE"
COMPOSE+=(-f "$HERE/docker-compose.yml")
# Without buildx the CLI cannot use BuildKit; the Dockerfile needs nothing BuildKit-only.
if ! docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
fi

dc() { "${COMPOSE[@]}" "$@"; }

# A cold build needs ~5 GB in Docker's root (builder layers with target/ and the vendored crates).
droot=$(docker info -f '{{.DockerRootDir}}' 2>/dev/null || echo /var/lib/docker)
free_kb=$(df -Pk "$droot" 2>/dev/null | awk 'NR==2 {print $4}')
if [ -n "$free_kb" ] && [ "$free_kb" -lt $((6 * 1024 * 1024)) ]; then
    die "only $((free_kb / 1024)) MB free under $droot; a build needs ~6 GB (docker image prune; docker builder prune)"
fi

# One run per compose project at a time: a second one would `down -v` the first one's stack.
# (Taken before the EXIT trap, so a refused run tears nothing down.)
if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/garch-smoke-$COMPOSE_PROJECT_NAME.lock"
    flock -n 9 || die "another smoke run of project '$COMPOSE_PROJECT_NAME' is in progress (another COMPOSE_PROJECT_NAME, MARKET_PORT and SIGNALS_PORT let two run at once)"
fi

# --- credentials: generated now, as a deployment does (compose/secrets.sh); before the EXIT
# trap, whose `down -v` needs them too (the compose file refuses to load without them) --------
SMOKE_ENV=$(mktemp /tmp/garch-smoke-env.XXXXXX)
"$HERE/secrets.sh" --env-file "$SMOKE_ENV" 2>/dev/null
set -a
# shellcheck disable=SC1090
. "$SMOKE_ENV"
set +a
rm -f "$SMOKE_ENV"
log "credentials: NATS_TOKEN, MARKET_SVC_TOKEN, SIGNALS_SVC_TOKEN generated for this run"

cleanup() {
    local rc=$?
    if [ "${KEEP_UP:-0}" = 1 ]; then
        log "KEEP_UP=1: stack left running (${COMPOSE[*]} down -v to stop it)"
    else
        if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
            log "logs of the stack (last 30 lines per service):"
            dc logs --no-color --tail 30 2>&1 | sed 's/^/    /' || true
        fi
        log "down -v"
        dc down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    [ -n "${STANDIN_DIR:-}" ] && rm -rf "$STANDIN_DIR"
    exit "$rc"
}
trap cleanup EXIT

# --- 1. base images ---------------------------------------------------------------------------
export RUST_IMAGE="${RUST_IMAGE:-rust:1.95-slim-bookworm}"
export RUNTIME_IMAGE="${RUNTIME_IMAGE:-debian:bookworm-slim}"
export NATS_IMAGE="${NATS_IMAGE:-nats:2.10-alpine}"
LOCAL_BASE=0
have_or_pull() {
    docker image inspect "$1" >/dev/null 2>&1 && return 0
    [ "${SMOKE_LOCAL_BASE:-0}" = 1 ] && return 1
    timeout 120 docker pull -q "$1" >/dev/null 2>&1
}
need=()
if [ "$BUILD_MODE" = container ] && ! have_or_pull "$RUST_IMAGE"; then need+=(rust); fi
if ! have_or_pull "$RUNTIME_IMAGE"; then need+=(debian); fi
if ! have_or_pull "$NATS_IMAGE"; then need+=(nats); fi
if [ "${#need[@]}" -gt 0 ]; then
    log "base images not available from a registry (${need[*]}): using local ones built from Debian's packages"
    LOCAL_BASE=1
    case " ${need[*]} " in *" rust "* | *" nats "*) need+=(debian) ;; esac
    "$HERE/build-base-images.sh" "${need[@]}"
    case " ${need[*]} " in *" rust "*) RUST_IMAGE=local/rust:bookworm ;; esac
    case " ${need[*]} " in *" debian "*) RUNTIME_IMAGE=local/debian:bookworm-slim ;; esac
    case " ${need[*]} " in *" nats "*) NATS_IMAGE=local/nats:bookworm ;; esac
fi
log "images: RUST_IMAGE=$RUST_IMAGE RUNTIME_IMAGE=$RUNTIME_IMAGE NATS_IMAGE=$NATS_IMAGE"

# --- 2. crates: vendored into the context when the build cannot reach the registry ------------
vendor=${CARGO_VENDOR:-auto}
[ "$vendor" = auto ] && vendor=$LOCAL_BASE
if [ "$BUILD_MODE" = container ] && [ "$vendor" = 1 ]; then
    "$HERE/vendor.sh"
elif [ "$BUILD_MODE" = container ]; then
    "$HERE/vendor.sh" --clean
fi

# --- 3. data ----------------------------------------------------------------------------------
DATA_DIR="${DATA_DIR:-$ROOT/data}"
if [ -f "$DATA_DIR/simulated_daily_data.csv" ] && [ -f "$DATA_DIR/simulated_5min_data.csv" ]; then
    log "data: $DATA_DIR"
else
    STANDIN_DIR=$(mktemp -d /tmp/garch-smoke-data.XXXXXX)
    python3 "$HERE/standin_data.py" "$STANDIN_DIR"
    DATA_DIR=$STANDIN_DIR
    log "data: $ROOT/data has no bundled CSVs yet; using a generated stand-in in $DATA_DIR"
fi
chmod -R a+rX "$DATA_DIR" 2>/dev/null || true # the containers run as uid 10001
export DATA_DIR

# --- 4. build ---------------------------------------------------------------------------------
tb=$(date +%s)
if [ "$BUILD_MODE" = host ]; then
    log "building on the host: cargo build --release -p market-svc -p signals-svc"
    (cd "$ROOT" && cargo build --release --locked -p market-svc -p signals-svc)
    mkdir -p "$HERE/prebuilt"
    cp "$ROOT/target/release/market-svc" "$ROOT/target/release/signals-svc" "$HERE/prebuilt/"
    export GARCH_DOCKERFILE=compose/Dockerfile.prebuilt
else
    export GARCH_DOCKERFILE=compose/Dockerfile
fi
log "building images (compose build)"
dc build >"$HERE/.smoke-build.log" 2>&1 || {
    tail -40 "$HERE/.smoke-build.log"
    die "image build failed (full log: compose/.smoke-build.log)"
}
log "images built in $(($(date +%s) - tb)) s"
docker image ls --format '    {{.Repository}}:{{.Tag}} {{.Size}}' | grep 'garch/' || true

# Does this market-svc have the `worker` subcommand yet (it lands with the distributed issue)?
WORKERS=2
if docker run --rm --entrypoint market-svc "garch/worker:${GARCH_IMAGE_TAG:-local}" worker --help >/dev/null 2>&1; then
    HAS_WORKER=1
else
    HAS_WORKER=0
    WORKERS=0
    SKIPPED+=("distributed refit and worker kill: this build's market-svc has no 'worker' subcommand")
    log "SKIPPED (later): market-svc has no 'worker' subcommand in this build; no workers started"
fi

# --- 5. up, wait for healthy --------------------------------------------------------------------
# Small chunks and a short ack_wait so that two workers share the job and a killed worker's chunk
# is redelivered quickly.
export MARKET_SVC_CHUNK_SIZE="${MARKET_SVC_CHUNK_SIZE:-1}"
export MARKET_SVC_ACK_WAIT="${MARKET_SVC_ACK_WAIT:-5}" WORKER_ACK_WAIT="${WORKER_ACK_WAIT:-5}"
export MARKET_SVC_DISTRIBUTED_DEADLINE="${MARKET_SVC_DISTRIBUTED_DEADLINE:-50}"
export MARKET_SVC_WORKER_THREADS="${MARKET_SVC_WORKER_THREADS:-1}"
export WORKER_RUST_LOG="${WORKER_RUST_LOG:-info,market_svc=debug}"
log "up -d --scale worker=$WORKERS"
dc up -d --no-build --scale "worker=$WORKERS" >/dev/null 2>&1 || {
    dc up -d --no-build --scale "worker=$WORKERS" || true
    die "compose up failed"
}

wait_healthy() {
    local deadline=$(($(date +%s) + ${1:-300})) ids id st all
    while :; do
        all=1
        ids=$(dc ps -q)
        [ -n "$ids" ] || all=0
        for id in $ids; do
            st=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
            [ "$st" = healthy ] || all=0
        done
        [ "$all" = 1 ] && return 0
        if [ "$(date +%s)" -ge "$deadline" ]; then
            for id in $ids; do
                docker inspect -f '    {{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id"
            done
            return 1
        fi
        sleep 2
    done
}
tu=$(date +%s)
if wait_healthy 300; then
    mapfile -t cids < <(dc ps -q)
    pass "every container healthy after $(($(date +%s) - tu)) s: $(docker inspect -f '{{.Name}}' "${cids[@]}" | tr -d / | tr '\n' ' ')"
else
    fail "containers not healthy within 300 s"
    exit 1
fi

# --- 5b. NATS: not published, and refuses a client without the token ---------------------------
NATS_CID=$(dc ps -q nats)
if [ -z "$(docker port "$NATS_CID" 2>/dev/null)" ]; then
    pass "NATS publishes no port on the host (docker port: none)"
else
    fail "NATS publishes ports on the host: $(docker port "$NATS_CID" | paste -sd' ')"
fi
NET=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$NATS_CID" | awk '{print $1}')
probe() { # probe URL: the healthcheck's NATS handshake from a container on the stack's network
    docker run --rm --network "$NET" --entrypoint healthcheck "garch/worker:${GARCH_IMAGE_TAG:-local}" nats "$1" 2>&1
}
if out=$(probe nats://nats:4222); then
    fail "NATS accepted a client without credentials"
elif grep -q "Authorization Violation" <<<"$out"; then
    pass "NATS refuses a client without the token ($out)"
else
    fail "NATS probe without credentials failed for another reason: $out"
fi
if out=$(probe "nats://wrong-$NATS_TOKEN@nats:4222"); then
    fail "NATS accepted a wrong token"
else
    pass "NATS refuses a wrong token"
fi
if out=$(probe "nats://$NATS_TOKEN@nats:4222"); then
    pass "NATS accepts the stack's token"
else
    fail "NATS refused the stack's token: $out"
fi

# --- 6. endpoints -----------------------------------------------------------------------------
BODY=$(mktemp)
check() { # [AUTH=TOKEN] check NAME EXPECTED_STATUS METHOD URL [JSON_BODY] [PY_ASSERT on `d`]
    local name="$1" want="$2" method="$3" url="$4" body="${5:-}" assert="${6:-}" code
    local auth=()
    [ -n "${AUTH:-}" ] && auth=(-H "authorization: Bearer $AUTH")
    if [ -n "$body" ]; then
        code=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" -H 'content-type: application/json' \
            "${auth[@]}" --max-time 120 -d "$body" "$url" || echo 000)
    else
        code=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "${auth[@]}" --max-time 60 "$url" || echo 000)
    fi
    CHECK_OK=0
    if [ "$code" != "$want" ]; then
        fail "$name: HTTP $code (wanted $want): $(head -c 300 "$BODY")"
        return 0
    fi
    if [ -n "$assert" ] && ! python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert $assert, d" "$BODY" 2>/dev/null; then
        fail "$name: body does not satisfy: $assert: $(head -c 300 "$BODY")"
        return 0
    fi
    CHECK_OK=1
    pass "$name ($code)"
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$BODY"; }

check "market-svc GET /health" 200 GET "$MARKET/health" "" "d['status']=='ok'"
check "market-svc GET /ready" 200 GET "$MARKET/ready" ""
check "market-svc GET /v1/assets" 200 GET "$MARKET/v1/assets" "" "len(d if isinstance(d,list) else d.get('assets',[]))>0"
SYM=$(json "(d if isinstance(d,list) else d['assets'])[0]['symbol']" 2>/dev/null) || die "no symbol in /v1/assets"
NSYM=$(json "len(d if isinstance(d,list) else d['assets'])")
log "market-svc serves $NSYM symbols, e.g. $SYM"
check "market-svc GET /v1/assets/$SYM/volatility" 200 GET "$MARKET/v1/assets/$SYM/volatility" ""
check "market-svc GET /v1/assets/$SYM/history" 200 GET "$MARKET/v1/assets/$SYM/history" ""
check "market-svc GET /v1/volatility" 200 GET "$MARKET/v1/volatility" ""
RETURNS="{\"returns\": [$(python3 -c "import random; random.seed(1); print(','.join('%.4f' % random.gauss(0, 1) for _ in range(300)))")]}"
check "market-svc POST /v1/volatility/fit without token" 401 POST "$MARKET/v1/volatility/fit" "$RETURNS"
AUTH=$MARKET_SVC_TOKEN check "market-svc POST /v1/volatility/fit with token" 200 POST "$MARKET/v1/volatility/fit" "$RETURNS"
check "market-svc POST /v1/fits without token" 401 POST "$MARKET/v1/fits" '{"mode":"parallel"}'
AUTH=$MARKET_SVC_TOKEN check "market-svc POST /v1/fits parallel" 200 POST "$MARKET/v1/fits" '{"mode":"parallel"}' \
    "len(d['symbols'])==$NSYM and all(s['ok'] for s in d['symbols'])"
check "market-svc GET /openapi.json" 200 GET "$MARKET/openapi.json" "" "'paths' in d"
check "market-svc GET /metrics" 200 GET "$MARKET/metrics" ""
check "market-svc POST /v1/data/reload without token" 401 POST "$MARKET/v1/data/reload" ""

check "signals-svc GET /health" 200 GET "$SIGNALS/health" "" "d['status']=='ok'"
check "signals-svc GET /ready" 200 GET "$SIGNALS/ready" ""
check "signals-svc GET /v1/assets" 200 GET "$SIGNALS/v1/assets" ""
SSYM=$(json "(d if isinstance(d,list) else d['assets'])[0]['symbol']" 2>/dev/null || echo "$SYM")
check "signals-svc GET /v1/assets/$SSYM/signals" 200 GET "$SIGNALS/v1/assets/$SSYM/signals" ""
check "signals-svc POST /v1/assets/$SSYM/bars without token" 401 POST "$SIGNALS/v1/assets/$SSYM/bars" '{"bars":[]}'
check "signals-svc GET /v1/signals" 200 GET "$SIGNALS/v1/signals" ""
check "signals-svc GET /openapi.json" 200 GET "$SIGNALS/openapi.json" "" "'paths' in d"
check "signals-svc GET /metrics" 200 GET "$SIGNALS/metrics" ""
# SSE: the stream opens with 200 text/event-stream and stays open (curl stops it after 2 s).
ctype=$(curl -sS -o /dev/null -D - --max-time 2 "$SIGNALS/v1/stream" 2>/dev/null | tr -d '\r' |
    awk -F': ' 'tolower($1)=="content-type" {print $2}' || true)
case "$ctype" in
    text/event-stream*) pass "signals-svc GET /v1/stream (text/event-stream)" ;;
    *) fail "signals-svc GET /v1/stream: content-type '$ctype'" ;;
esac

# --- 7. distributed refit with two workers, and one worker killed mid-job ---------------------
if [ "$HAS_WORKER" = 1 ]; then
    AUTH=$MARKET_SVC_TOKEN check "market-svc POST /v1/fits distributed (2 workers)" 200 POST "$MARKET/v1/fits" \
        '{"mode":"distributed"}' \
        "d['mode']=='distributed' and len(d['symbols'])==$NSYM and all(s['ok'] for s in d['symbols'])"
    if [ "$CHECK_OK" = 1 ]; then
        log "     distributed refit: $(json "'%d symbols in %.2f s' % (len(d['symbols']), d['total_seconds'])")"
    fi

    # The slow model (EGARCH, Student t) so that chunks are still in flight when the kill lands.
    mapfile -t WIDS < <(dc ps -q worker)
    if [ "${#WIDS[@]}" -ne 2 ]; then
        fail "expected 2 worker containers, found ${#WIDS[@]}"
    else
        since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        KBODY=$(mktemp)
        curl -sS -o "$KBODY" -w '%{http_code}' -X POST -H 'content-type: application/json' --max-time 120 \
            -H "authorization: Bearer $MARKET_SVC_TOKEN" \
            -d '{"mode":"distributed","model":"egarch","dist":"t"}' "$MARKET/v1/fits" >"$KBODY.code" 2>&1 &
        CURL_PID=$!
        # Kill the first worker as soon as it has started fitting a chunk of this job.
        victim=${WIDS[0]}
        for _ in $(seq 1 100); do
            docker logs --since "$since" "$victim" 2>&1 | grep -q 'fitting chunk' && break
            sleep 0.1
        done
        if docker logs --since "$since" "$victim" 2>&1 | grep -q 'fitting chunk'; then
            docker kill -s KILL "$victim" >/dev/null
            log "     killed worker ${victim:0:12} (SIGKILL) while it was fitting a chunk"
            killed=1
        else
            killed=0
            docker kill -s KILL "$victim" >/dev/null
            log "     worker ${victim:0:12} had not started a chunk within 10 s; killed it anyway"
        fi
        wait "$CURL_PID" || true
        code=$(cat "$KBODY.code")
        if [ "$code" = 200 ] && python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
syms=[s['symbol'] for s in d['symbols']]
assert len(syms)==$NSYM and len(set(syms))==$NSYM and all(s['ok'] for s in d['symbols']), d
print('%d symbols, all ok, in %.2f s' % (len(syms), d['total_seconds']))" "$KBODY" >"$KBODY.msg" 2>&1; then
            pass "refit completes with a worker killed mid-job: $(cat "$KBODY.msg")"
            survivor=${WIDS[1]}
            if docker logs --since "$since" "$survivor" 2>&1 | grep 'fitting chunk' | grep -q '"delivery":[2-9]'; then
                pass "the killed worker's chunk was redelivered to the survivor (delivery >= 2 in its log)"
            elif [ "$killed" = 1 ]; then
                log "     note: no redelivered chunk seen in the survivor's debug log"
            fi
        else
            fail "refit with a killed worker: HTTP $code: $(head -c 400 "$KBODY")"
        fi
        rm -f "$KBODY" "$KBODY.code" "$KBODY.msg"
        # restart: unless-stopped does not revive a container killed by `docker kill`; bring it back.
        dc up -d --no-build --scale worker=2 >/dev/null 2>&1 || true
    fi
else
    log "SKIPPED: distributed refit with 2 workers and the worker kill (no 'worker' subcommand in this build)"
fi
rm -f "$BODY"

# --- 8. result ----------------------------------------------------------------------------------
log "summary: $PASSED passed, $FAILED failed, ${#SKIPPED[@]} skipped; total $(($(date +%s) - T0)) s"
for s in "${SKIPPED[@]}"; do log "SKIPPED: $s"; done
[ "$FAILED" -eq 0 ]
