#!/usr/bin/env bash
# Builds local stand-ins for the base images the Dockerfile names, for a Docker engine that
# cannot pull from any registry. Everything comes from Debian's packages, fetched from the
# mirror this machine's apt is configured with:
#
#   local/debian:bookworm-slim    debootstrap --variant=minbase bookworm, docs/lists removed
#                                 (stands in for debian:bookworm-slim)
#   local/rust:bookworm           the same rootfs + gcc/libc6-dev/ca-certificates (chroot apt),
#                                 plus the HOST's Rust toolchain (rustc/cargo/std) copied in:
#                                 Debian's rustc is too old for edition 2024 and rustup cannot
#                                 download a toolchain inside a container here
#                                 (stands in for rust:<version>-slim-bookworm)
#   local/nats:bookworm           local/debian + Debian's nats-server (and busybox for `wget`,
#                                 so the compose healthcheck works as with nats:*-alpine)
#
# Usage: compose/build-base-images.sh [--force] [debian|rust|nats ...]
#   --force   rebuild images that already exist (default: keep them)
# Needs root (debootstrap, chroot), debootstrap, docker. Takes ~3-6 minutes the first time.
set -euo pipefail

FORCE=0
WANT=()
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        debian | rust | nats) WANT+=("$arg") ;;
        -h | --help)
            sed -n '2,20p' "$0"
            exit 0
            ;;
        *)
            echo "build-base-images: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done
[ "${#WANT[@]}" -gt 0 ] || WANT=(debian rust nats)

DEBIAN_IMAGE="${LOCAL_DEBIAN_IMAGE:-local/debian:bookworm-slim}"
RUST_LOCAL_IMAGE="${LOCAL_RUST_IMAGE:-local/rust:bookworm}"
NATS_LOCAL_IMAGE="${LOCAL_NATS_IMAGE:-local/nats:bookworm}"
SUITE=bookworm

log() { printf 'build-base-images: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

command -v docker >/dev/null 2>&1 || die "docker is not installed"
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running?)"
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap and chroot need it)"

have_image() { docker image inspect "$1" >/dev/null 2>&1; }
wanted() {
    local w
    for w in "${WANT[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}

# The Debian mirror apt uses here: first URI of a deb822 .sources file, else a sources.list line.
debian_mirror() {
    local uri=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || die "cannot find a Debian mirror in /etc/apt/sources.list{,.d}"
    printf '%s\n' "$uri"
}

WORK=$(mktemp -d /var/tmp/garch-base.XXXXXX)
cleanup() {
    # chroot mounts first, then the tree.
    for m in "$WORK"/rootfs*/proc; do
        if mountpoint -q "$m" 2>/dev/null; then umount "$m" || true; fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

slim_down() { # strip a rootfs the way the official slim images are stripped
    local root="$1"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/tmp/* 2>/dev/null || true
}

import_rootfs() { # import_rootfs DIR TAG ENV...
    local root="$1" tag="$2"
    shift 2
    local changes=(--change 'CMD ["bash"]')
    local e
    for e in "$@"; do changes+=(--change "ENV $e"); done
    log "importing $root as $tag"
    tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >/dev/null
}

MIRROR=""
ROOTFS="$WORK/rootfs"
bootstrap() {
    [ -d "$ROOTFS" ] && return 0
    command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing (apt-get install -y debootstrap)"
    MIRROR=$(debian_mirror)
    log "debootstrap --variant=minbase $SUITE from $MIRROR"
    debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        {
            tail -20 "$WORK/debootstrap.log" >&2
            die "debootstrap failed"
        }
    # Security updates too, as the official image has them.
    cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
EOF
    local sec
    sec=$(awk '/^URIs:/ && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [ -n "$sec" ] && echo "deb $sec $SUITE-security main" >>"$ROOTFS/etc/apt/sources.list"
    cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
    chroot "$ROOTFS" apt-get update -qq
    chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade >/dev/null
}

PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

if wanted debian && { [ "$FORCE" -eq 1 ] || ! have_image "$DEBIAN_IMAGE"; }; then
    bootstrap
    cp -a "$ROOTFS" "$WORK/rootfs-slim"
    slim_down "$WORK/rootfs-slim"
    : >"$WORK/rootfs-slim/etc/resolv.conf"
    import_rootfs "$WORK/rootfs-slim" "$DEBIAN_IMAGE" "$PATH_ENV"
    rm -rf "$WORK/rootfs-slim"
else
    wanted debian && log "$DEBIAN_IMAGE exists (use --force to rebuild)"
fi

if wanted rust && { [ "$FORCE" -eq 1 ] || ! have_image "$RUST_LOCAL_IMAGE"; }; then
    command -v rustc >/dev/null 2>&1 || die "no host Rust toolchain to copy (rustc not on PATH)"
    SYSROOT=$(rustc --print sysroot)
    HOST_TRIPLE=$(rustc -vV | awk '/^host:/ {print $2}')
    [ "$HOST_TRIPLE" = "x86_64-unknown-linux-gnu" ] || [ "$HOST_TRIPLE" = "aarch64-unknown-linux-gnu" ] ||
        die "host toolchain is $HOST_TRIPLE; a glibc Linux toolchain is needed"
    log "Rust toolchain from $SYSROOT ($(rustc --version))"
    bootstrap
    cp -a "$ROOTFS" "$WORK/rootfs-rust"
    R="$WORK/rootfs-rust"
    mount -t proc proc "$R/proc"
    chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc libc6-dev ca-certificates pkg-config make >/dev/null
    umount "$R/proc"
    slim_down "$R"
    : >"$R/etc/resolv.conf"
    # The toolchain as the sysroot /usr/local/rust: rustc finds its libraries relative to itself.
    mkdir -p "$R/usr/local/rust/bin" "$R/usr/local/rust/lib/rustlib" "$R/usr/local/cargo/bin"
    cp -a "$SYSROOT"/bin/{cargo,rustc,rustdoc} "$R/usr/local/rust/bin/"
    cp -a "$SYSROOT"/lib/*.so* "$R/usr/local/rust/lib/"
    cp -a "$SYSROOT/lib/rustlib/$HOST_TRIPLE" "$R/usr/local/rust/lib/rustlib/"
    cp -a "$SYSROOT"/lib/rustlib/{components,rust-installer-version} "$R/usr/local/rust/lib/rustlib/" 2>/dev/null || true
    for b in cargo rustc rustdoc; do ln -s "../../rust/bin/$b" "$R/usr/local/cargo/bin/$b"; done
    import_rootfs "$R" "$RUST_LOCAL_IMAGE" \
        "PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "CARGO_HOME=/usr/local/cargo" "RUST_VERSION=$(rustc --version | awk '{print $2}')"
    rm -rf "$R"
else
    wanted rust && log "$RUST_LOCAL_IMAGE exists (use --force to rebuild)"
fi

if wanted nats && { [ "$FORCE" -eq 1 ] || ! have_image "$NATS_LOCAL_IMAGE"; }; then
    have_image "$DEBIAN_IMAGE" || die "$DEBIAN_IMAGE is missing: build 'debian' first"
    CTX="$WORK/nats-ctx"
    mkdir -p "$CTX/debs" "$CTX/root"
    # apt's _apt user cannot write into root's mktemp dir; download as root without the warning.
    (cd "$CTX/debs" && apt-get -o APT::Sandbox::User=root download nats-server busybox >/dev/null) ||
        die "apt-get download nats-server busybox failed (run apt-get update?)"
    for deb in "$CTX"/debs/*.deb; do dpkg-deb -x "$deb" "$CTX/root"; done
    cp "$CTX/root/usr/sbin/nats-server" "$CTX/nats-server" || die "no usr/sbin/nats-server in the package"
    cp "$CTX/root/bin/busybox" "$CTX/busybox" || die "no bin/busybox in the package"
    rm -rf "$CTX/root" "$CTX/debs/"*.deb
    ver=$("$CTX/nats-server" --version | awk '{print $NF}')
    log "nats-server $ver from Debian's package"
    cat >"$CTX/Dockerfile" <<EOF
FROM $DEBIAN_IMAGE
COPY nats-server /usr/sbin/nats-server
COPY busybox /usr/local/bin/busybox
RUN ln -s busybox /usr/local/bin/wget && nats-server --version
EXPOSE 4222 6222 8222
ENTRYPOINT ["nats-server"]
CMD ["-js", "-m", "8222"]
EOF
    DOCKER_BUILDKIT=0 docker build -q -t "$NATS_LOCAL_IMAGE" \
        --label "org.opencontainers.image.version=$ver" "$CTX" >/dev/null
    log "built $NATS_LOCAL_IMAGE"
else
    wanted nats && log "$NATS_LOCAL_IMAGE exists (use --force to rebuild)"
fi

docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep '^local/' >&2 || true
