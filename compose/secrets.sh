#!/usr/bin/env bash
# Generates the stack's credentials at deploy time, into an env file that compose reads and git
# ignores (compose/.env by default, mode 600):
#   NATS_TOKEN          every NATS client (market-svc, the workers) must present it
#   MARKET_SVC_TOKEN    bearer token of market-svc's state-changing and expensive routes
#   SIGNALS_SVC_TOKEN   bearer token of signals-svc's bar appends and reloads
# Values already in the file are kept (re-running is harmless; workers started later get the same
# token); --rotate replaces all three. Tokens are `t` and 64 hex digits from /dev/urandom: a
# letter first, because nats-server's configuration parser reads a value that starts with a
# digit as a number or a date ("7e5…" is a float) and then refuses to start; a NATS_TOKEN kept
# from an earlier version that starts with a digit is replaced.
#
# Usage: compose/secrets.sh [--rotate] [--env-file PATH] [--print]
#   --print   also write the file's token lines to stdout (e.g. for the dashboard's operator)
# docker-compose.yml refuses to start without these variables (`${VAR:?}`), so a stack never
# runs open by omission.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENV_FILE="$HERE/.env"
ROTATE=0
PRINT=0
while [ $# -gt 0 ]; do
    case "$1" in
        --rotate) ROTATE=1; shift ;;
        --env-file) ENV_FILE="${2:?--env-file needs a path}"; shift 2 ;;
        --print) PRINT=1; shift ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "secrets: unknown option: $1 (see --help)" >&2; exit 1 ;;
    esac
done

new_token() { printf 't%s' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"; }

umask 077
touch "$ENV_FILE"
chmod 600 "$ENV_FILE"
for var in NATS_TOKEN MARKET_SVC_TOKEN SIGNALS_SVC_TOKEN; do
    if [ "$ROTATE" = 1 ]; then
        grep -v "^$var=" "$ENV_FILE" >"$ENV_FILE.tmp" || true
        mv "$ENV_FILE.tmp" "$ENV_FILE"
    fi
    if [ "$var" = NATS_TOKEN ] && grep -q "^$var=[0-9]" "$ENV_FILE"; then
        echo "secrets: $var starts with a digit, which nats-server's configuration cannot take; replacing it" >&2
    elif grep -q "^$var=." "$ENV_FILE"; then
        echo "secrets: $var kept ($ENV_FILE)" >&2
        continue
    fi
    grep -v "^$var=" "$ENV_FILE" >"$ENV_FILE.tmp" || true
    printf '%s=%s\n' "$var" "$(new_token)" >>"$ENV_FILE.tmp"
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    echo "secrets: $var generated ($ENV_FILE)" >&2
done
if [ "$PRINT" = 1 ]; then
    grep -E '^(NATS_TOKEN|MARKET_SVC_TOKEN|SIGNALS_SVC_TOKEN)=' "$ENV_FILE"
fi
