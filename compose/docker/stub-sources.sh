#!/bin/sh
# Dependency caching without cargo-chef: given the workspace's manifests only, create an empty
# target for every member (src/lib.rs, src/main.rs) and every explicitly declared
# [[bin]]/[[bench]]/[[test]]/[[example]], so that `cargo build` compiles just the dependencies.
# Run from the workspace root; the stubs are deleted again before the real sources are copied.
set -eu
find . -name Cargo.toml -not -path './target/*' -not -path './compose/*' | while read -r manifest; do
    dir=$(dirname "$manifest")
    grep -q '^\[package\]' "$manifest" || continue
    mkdir -p "$dir/src"
    [ -f "$dir/src/lib.rs" ] || echo '//! stub' >"$dir/src/lib.rs"
    [ -f "$dir/src/main.rs" ] || echo 'fn main() {}' >"$dir/src/main.rs"
    awk -v dir="$dir" '
        function flush() {
            if (kind != "" && name != "") {
                if (path == "") {
                    if (kind == "bin") path = "src/bin/" name ".rs"
                    else if (kind == "bench") path = "benches/" name ".rs"
                    else if (kind == "test") path = "tests/" name ".rs"
                    else if (kind == "example") path = "examples/" name ".rs"
                }
                print dir "/" path
            }
            kind = ""; name = ""; path = ""
        }
        /^\[\[(bin|bench|test|example)\]\]/ { flush(); kind = $0; gsub(/[][ ]/, "", kind); next }
        /^\[/ { flush(); next }
        kind != "" && /^name *=/ { name = $0; sub(/^name *= *"/, "", name); sub(/".*/, "", name) }
        kind != "" && /^path *=/ { path = $0; sub(/^path *= *"/, "", path); sub(/".*/, "", path) }
        END { flush() }
    ' "$manifest" | while read -r f; do
        mkdir -p "$(dirname "$f")"
        [ -f "$f" ] || echo 'fn main() {}' >"$f"
    done
done
