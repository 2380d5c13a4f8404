#!/usr/bin/env bash
# The cheap checks of compose/ that CI runs (seconds; no image build, no engine needed):
#   - shellcheck of compose/'s scripts;
#   - the compose files validate (`docker compose config`, or docker-compose v1);
#   - the Dockerfile copies the manifest of every workspace member (a new crate would otherwise
#     break the image's dependency stage), and the stub sources it builds them with make a
#     workspace cargo can load;
#   - the stack refuses to start without its generated credentials, and NATS is not published;
#   - the healthcheck script passes on a 200 and fails on a 503 or a closed port;
#   - a real nats-server with the stack's config refuses clients without the token.
# A missing tool skips its check (shellcheck is installed first when running as root); under
# CI=true a missing shellcheck fails. The full end-to-end test is compose/smoke.sh (~8-15 min).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PASSED=0
FAILED=0
SKIPPED=0
ok() {
    PASSED=$((PASSED + 1))
    echo "ok   $*"
}
bad() {
    FAILED=$((FAILED + 1))
    echo "FAIL $*"
}
skip() {
    SKIPPED=$((SKIPPED + 1))
    echo "SKIP $*"
}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- shellcheck --------------------------------------------------------------------------------
if ! command -v shellcheck >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1; }
fi
if command -v shellcheck >/dev/null 2>&1; then
    scripts=("$HERE"/*.sh "$HERE"/docker/healthcheck "$HERE"/docker/stub-sources.sh)
    if shellcheck "${scripts[@]}"; then
        ok "shellcheck: ${#scripts[@]} scripts in compose/"
    else
        bad "shellcheck of compose/ scripts"
    fi
elif [ "${CI:-}" = true ]; then
    bad "shellcheck is not installed (apt-get install shellcheck)"
else
    skip "shellcheck not installed"
fi

# --- compose config ----------------------------------------------------------------------------
COMPOSE=()
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
fi
if [ "${#COMPOSE[@]}" -gt 0 ]; then
    # Stand-in credentials for validation only (the real ones come from compose/secrets.sh).
    CREDS=(NATS_TOKEN=ci-nats MARKET_SVC_TOKEN=ci-market SIGNALS_SVC_TOKEN=ci-signals)
    if out=$(env "${CREDS[@]}" "${COMPOSE[@]}" -f "$HERE/docker-compose.yml" config -q 2>&1) &&
        out2=$(env "${CREDS[@]}" "${COMPOSE[@]}" -f "$HERE/docker-compose.yml" -f "$HERE/docker-compose.head.yml" config -q 2>&1); then
        ok "compose config: docker-compose.yml and the head override (${COMPOSE[*]})"
    else
        bad "compose config: ${out:-}${out2:-}"
    fi
    services=$(env "${CREDS[@]}" "${COMPOSE[@]}" -f "$HERE/docker-compose.yml" config --services 2>/dev/null | sort | tr '\n' ' ')
    if [ "$services" = "market-svc nats signals-svc worker " ]; then
        ok "compose services: $services"
    else
        bad "compose services: '$services'"
    fi
    # Fail closed: without the generated credentials the stack does not start at all. (An empty
    # env file stands in for compose/.env, which a developer's checkout may have.)
    : >"$WORK/empty.env"
    for var in NATS_TOKEN MARKET_SVC_TOKEN SIGNALS_SVC_TOKEN; do
        others=()
        for c in "${CREDS[@]}"; do [ "${c%%=*}" = "$var" ] || others+=("$c"); done
        if out=$(env -u "$var" "${others[@]}" "${COMPOSE[@]}" --env-file "$WORK/empty.env" \
            -f "$HERE/docker-compose.yml" config -q 2>&1); then
            bad "compose config succeeds without $var (the stack would run without it)"
        elif grep -q "$var is not set - run compose/secrets.sh" <<<"$out"; then
            ok "compose refuses to start without $var"
        else
            bad "compose config without $var failed for another reason: $out"
        fi
    done
    # NATS reaches the stack's network only: no published port in the base file; every NATS
    # client gets the token through its URL.
    rendered=$(env "${CREDS[@]}" "${COMPOSE[@]}" -f "$HERE/docker-compose.yml" config 2>/dev/null)
    if python3 - "$rendered" <<'PY'
import sys, yaml
doc = yaml.safe_load(sys.argv[1])
svc = doc["services"]
assert not svc["nats"].get("ports"), "nats publishes ports: %r" % svc["nats"].get("ports")
for name in ("market-svc", "worker"):
    url = svc[name]["environment"]["NATS_URL"]
    assert url.startswith("nats://ci-nats@"), "%s NATS_URL lacks the token: %s" % (name, url)
    assert "nats://" not in " ".join(map(str, svc[name].get("command") or [])), "%s: NATS URL on the command line" % name
assert svc["nats"]["environment"]["NATS_TOKEN"] == "ci-nats"
assert any("garch.conf" in str(v) for v in svc["nats"]["command"]), svc["nats"]["command"]
PY
    then
        ok "compose: NATS not published to the host; market-svc and workers carry the token in NATS_URL"
    else
        bad "compose: NATS exposure or credentials (see above)"
    fi
else
    skip "compose config (neither 'docker compose' nor docker-compose installed)"
fi

# --- Dockerfile vs workspace -------------------------------------------------------------------
members=$(python3 -c "import tomllib; print(' '.join(tomllib.load(open('$ROOT/Cargo.toml','rb'))['workspace']['members']))")
missing=""
for m in $members; do
    grep -q "^COPY $m/Cargo.toml $m/$" "$HERE/Dockerfile" || missing="$missing $m(manifest)"
    grep -q "^COPY $m/ $m/$" "$HERE/Dockerfile" || missing="$missing $m(sources)"
done
if [ -z "$missing" ]; then
    ok "Dockerfile copies the manifest and sources of every workspace member ($members)"
else
    bad "Dockerfile lacks 'COPY <m>/Cargo.toml <m>/' or 'COPY <m>/ <m>/' for:$missing"
fi
if command -v cargo >/dev/null 2>&1; then
    mkdir -p "$WORK/ws"
    cp "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$WORK/ws/"
    for m in $members; do
        mkdir -p "$WORK/ws/$m"
        cp "$ROOT/$m/Cargo.toml" "$WORK/ws/$m/"
    done
    if (cd "$WORK/ws" && sh "$HERE/docker/stub-sources.sh" &&
        cargo metadata --locked --offline --format-version 1 >/dev/null 2>"$WORK/meta.err"); then
        ok "stub sources make a loadable workspace (cargo metadata --locked)"
    elif grep -qiE "offline|not available|failed to download|no matching package" "$WORK/meta.err"; then
        skip "stub workspace check: crates not in the local cargo cache ($(head -1 "$WORK/meta.err"))"
    else
        bad "stub workspace: $(head -5 "$WORK/meta.err")"
    fi
else
    skip "stub workspace check (no cargo)"
fi

# --- healthcheck script ------------------------------------------------------------------------
serve() { # serve PORT STATUS_LINE: a one-shot-per-connection HTTP responder on loopback
    python3 - "$1" "$2" <<'PY' &
import socket, sys
port, status = int(sys.argv[1]), sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8); s.settimeout(30)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    try:
        c.settimeout(5)
        if c.recv(4096):
            c.sendall(f"HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\n{{}}".encode())
    except OSError:
        pass
    finally:
        c.close()
PY
    PIDS+=($!)
}
# Three distinct free ports, drawn at once (separate draws could repeat a port).
read -r p200 p503 pclosed < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
serve "$p200" "200 OK"
serve "$p503" "503 Service Unavailable"
for p in "$p200" "$p503"; do # until both listen (a connect-and-close is harmless to them)
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break
        sleep 0.1
    done
done
HC="$HERE/docker/healthcheck"
verdict() { # verdict WANT LABEL ENV... -- ARGS...: run the healthcheck, compare its exit status
    local want="$1" label="$2" got
    shift 2
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    if env "${envs[@]}" bash "$HC" "$@" 2>>"$WORK/hc.err"; then got=pass; else got=fail; fi
    [ "$got" = "$want" ] || { echo "$label: wanted $want, got $got" >>"$WORK/hc.why"; return 1; }
}
: >"$WORK/hc.why"
verdict pass "200 on /ready" MARKET_SVC_ADDR="0.0.0.0:$p200" -- market-svc
verdict fail "503 on /ready" SIGNALS_SVC_ADDR="0.0.0.0:$p503" -- signals-svc
verdict fail "closed port" -- http "$pclosed" /health
if [ ! -s "$WORK/hc.why" ]; then
    ok "healthcheck: 200 passes; 503 and a closed port fail"
else
    bad "healthcheck script verdicts: $(paste -sd';' "$WORK/hc.why") (stderr: $(tail -3 "$WORK/hc.err" | paste -sd';'))"
fi

# --- NATS with the stack's configuration: the token is required ----------------------------
# A real nats-server started with compose/nats/garch.conf, as the stack starts it; the
# healthcheck's NATS handshake is the client. (CI installs nats-server before this script.)
if command -v nats-server >/dev/null 2>&1; then
    : >"$WORK/hc.why"
    token=t$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    oport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if env -u NATS_TOKEN timeout 10 nats-server -c "$HERE/nats/garch.conf" -p "$oport" \
        >"$WORK/nats-open.log" 2>&1; then
        echo "nats-server started without NATS_TOKEN" >>"$WORK/hc.why"
    fi
    # A port drawn free can be taken by another socket before nats-server binds it (it then
    # exits): up to three ports, each waited on until it listens or the server has exited.
    for _attempt in 1 2 3; do
        nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        NATS_TOKEN=$token nats-server -c "$HERE/nats/garch.conf" -a 127.0.0.1 -p "$nport" -js \
            -sd "$WORK/js" >"$WORK/nats.log" 2>&1 &
        npid=$!
        PIDS+=("$npid")
        listening=no
        for _ in $(seq 1 300); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$nport") 2>/dev/null; then listening=yes; break; fi
            kill -0 "$npid" 2>/dev/null || break
            sleep 0.1
        done
        [ "$listening" = yes ] && break
        kill "$npid" 2>/dev/null || true
    done
    [ "$listening" = yes ] || echo "nats-server never listened: $(tail -3 "$WORK/nats.log" | paste -sd';')" >>"$WORK/hc.why"
    verdict pass "NATS with the token" NATS_URL="nats://$token@127.0.0.1:$nport" -- nats
    verdict fail "NATS without credentials" NATS_URL="nats://127.0.0.1:$nport" -- nats
    verdict fail "NATS with a wrong token" NATS_URL="nats://x$token@127.0.0.1:$nport" -- nats
    verdict fail "unreachable NATS" NATS_URL="nats://$token@127.0.0.1:$pclosed" -- nats
    if [ ! -s "$WORK/hc.why" ] && grep -q "Authorization Violation" "$WORK/hc.err"; then
        ok "NATS (compose/nats/garch.conf): refuses to start without NATS_TOKEN; a client without it or with a wrong one is refused (Authorization Violation); with it, PONG"
    else
        bad "NATS credentials: $(paste -sd';' "$WORK/hc.why") (stderr: $(tail -3 "$WORK/hc.err" | paste -sd';'))"
    fi
elif [ "${CI:-}" = true ]; then
    bad "nats-server is not installed (apt-get install nats-server)"
else
    skip "NATS credential checks (nats-server not installed)"
fi

echo "compose: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
