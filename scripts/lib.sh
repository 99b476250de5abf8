# Shared helpers for scripts/run, scripts/test and scripts/bench (sourced, not run).
# Installs what is missing when it may (root or sudo), else prints the exact command.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KERNEL_TARGET=aarch64-unknown-none-softfloat
OUT="$ROOT/out"

say() { echo "[$(basename "$0")] $*" >&2; }
die() { say "error: $*"; exit 2; }

# Runs a command as root: directly, through sudo, or not at all (prints it).
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else say "missing system packages; run:  sudo $*"; return 1
    fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq >/dev/null || return 1; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_rust() {
    command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
    local have
    have=$(rustup target list --installed 2>/dev/null)
    for t in aarch64-unknown-none aarch64-unknown-none-softfloat; do
        echo "$have" | grep -qx "$t" || rustup target add "$t" >&2 || die "rustup target add $t failed"
    done
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy >&2
}

qemu_major() { qemu-system-aarch64 --version 2>/dev/null | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'; }

ensure_qemu() {
    local v; v=$(qemu_major)
    if [ -n "$v" ] && [ "$v" -ge 10 ]; then return; fi
    say "installing QEMU 10 from bookworm-backports (have: ${v:-none})"
    if [ ! -f /etc/apt/sources.list.d/backports.list ] && grep -q bookworm /etc/os-release 2>/dev/null; then
        echo 'deb http://deb.debian.org/debian bookworm-backports main' | as_root tee /etc/apt/sources.list.d/backports.list >/dev/null || exit 2
        apt_updated=
    fi
    if grep -q bookworm /etc/os-release 2>/dev/null; then
        apt_install -t bookworm-backports qemu-system-arm || die "QEMU install failed; run: sudo apt-get install -t bookworm-backports qemu-system-arm"
    else
        apt_install qemu-system-arm || die "QEMU install failed; run: sudo apt-get install qemu-system-arm"
    fi
    v=$(qemu_major); [ -n "$v" ] && [ "$v" -ge 10 ] || say "warning: QEMU ${v:-?} is older than 10 (raspi4b needs 10)"
}

ensure_dtc() {
    command -v dtc >/dev/null || apt_install device-tree-compiler || die "run: sudo apt-get install device-tree-compiler"
}

# An objcopy that can write a flat binary: rustup's llvm-tools, else the system's.
objcopy_tool() {
    local sysroot tool
    sysroot=$(rustc --print sysroot)
    tool=$(ls "$sysroot"/lib/rustlib/*/bin/llvm-objcopy 2>/dev/null | head -1)
    if [ -z "$tool" ]; then
        rustup component add llvm-tools >&2 2>/dev/null || true
        tool=$(ls "$sysroot"/lib/rustlib/*/bin/llvm-objcopy 2>/dev/null | head -1)
    fi
    [ -n "$tool" ] || tool=$(command -v llvm-objcopy || command -v aarch64-linux-gnu-objcopy) \
        || die "no objcopy: run rustup component add llvm-tools"
    echo "$tool"
}

# build_image BOARD: builds the release kernel for BOARD into out/BOARD/Image.
build_image() {
    local board=$1 elf
    (cd "$ROOT" && cargo build -q --release -p "$board" --target "$KERNEL_TARGET") || die "kernel build failed"
    elf="$ROOT/target/$KERNEL_TARGET/release/$board"
    mkdir -p "$OUT/$board"
    "$(objcopy_tool)" -O binary "$elf" "$OUT/$board/Image.tmp" && mv "$OUT/$board/Image.tmp" "$OUT/$board/Image"
    cp "$elf" "$OUT/$board/kernel.elf"
}
