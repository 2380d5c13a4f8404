#!/usr/bin/env bash
# Vendors every crate of Cargo.lock into compose/cargo/vendor (git-ignored) and writes
# compose/cargo/config.toml, a cargo config fragment that the Dockerfile installs as
# $CARGO_HOME/config.toml inside the builder image only: the image then builds offline.
# Re-vendors only when Cargo.lock changed since the last run (the image's dependency layer stays
# cached). `--clean` removes both again (builds then fetch crates as usual).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT="$HERE/cargo"

if [ "${1:-}" = --clean ]; then
    rm -rf "$OUT/vendor" "$OUT/config.toml" "$OUT/.lock-sha256"
    exit 0
fi
command -v cargo >/dev/null 2>&1 || {
    echo "vendor.sh: cargo is needed on the host to vendor the crates" >&2
    exit 1
}
sum=$(sha256sum "$ROOT/Cargo.lock" | cut -d' ' -f1)
if [ -f "$OUT/config.toml" ] && [ -d "$OUT/vendor" ] && [ "$(cat "$OUT/.lock-sha256" 2>/dev/null)" = "$sum" ]; then
    echo "vendor.sh: compose/cargo/vendor is up to date with Cargo.lock" >&2
    exit 0
fi
echo "vendor.sh: cargo vendor --locked into compose/cargo/vendor" >&2
rm -rf "$OUT/vendor" "$OUT/config.toml"
(cd "$ROOT" && cargo vendor --locked --quiet "$OUT/vendor" >/dev/null)
cat >"$OUT/config.toml" <<'TOML'
# Written by compose/vendor.sh; used only inside the builder image ($CARGO_HOME/config.toml).
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "/opt/cargo-offline/vendor"

[net]
offline = true
TOML
echo "$sum" >"$OUT/.lock-sha256"
echo "vendor.sh: $(find "$OUT/vendor" -mindepth 1 -maxdepth 1 | wc -l) crates, $(du -sh "$OUT/vendor" | cut -f1)" >&2
