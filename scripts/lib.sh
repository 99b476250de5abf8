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

ensure_sdcard_tools() {
    local missing=()
    command -v sfdisk >/dev/null || missing+=(fdisk)
    command -v mkfs.vfat >/dev/null || missing+=(dosfstools)
    command -v mcopy >/dev/null || missing+=(mtools)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}" || die "run: sudo apt-get install ${missing[*]}"
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

# build_initrd: the EL0 programs packed as the boot modules, out/initrd.cpio.
build_initrd() {
    command -v cpio >/dev/null || apt_install cpio || die "run: sudo apt-get install cpio"
    "$ROOT/scripts/build-userland" || die "user programs failed to build"
    [ -f "$OUT/initrd.cpio" ] || die "scripts/build-userland made no $OUT/initrd.cpio"
}

# --- Raspberry Pi 4 files (DTB, TF-A, firmware) from Debian's arm64 packages ---
CACHE="${MK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mk}"
RPI4_DIR="$CACHE/rpi4"
# sha256 of the extracted files we accept. Debian replaces its packages; when a
# new version changes a file, check it and add its hash here.
RPI4_SHA256="
b61443b9dcd7af9ebefa113114af77ec0cd3b477be22bd060f99b3bf376b2ae8 bcm2711-rpi-4-b.dtb linux-image-6.1.0-56-arm64
2033f257de495cf2d31c81704811bf1bab955e24d4d1823900a7615cadc15ccb bl31.bin arm-trusted-firmware 2.8.0+dfsg-1
36d12ae9eda1a508430e65d7877aada4d6c8dbe61a6dd3bbf20da1ed6ca58f70 start4.elf raspi-firmware 1.20220830+ds-1
55aeb4d842356c655f230fdd0c08dfad8a0412abdf97e421d420ccd09861a233 fixup4.dat raspi-firmware 1.20220830+ds-1
"

rpi4_file_ok() { # NAME: present and with an accepted hash
    local f="$RPI4_DIR/$1" sum
    [ -f "$f" ] || return 1
    sum=$(sha256sum "$f" | cut -d' ' -f1)
    echo "$RPI4_SHA256" | grep -q "^$sum $1 "
}

# Fetches the Pi 4 files into $RPI4_DIR (once), checking their sha256.
fetch_rpi4() {
    local all=1 f
    for f in bcm2711-rpi-4-b.dtb bl31.bin start4.elf fixup4.dat; do rpi4_file_ok "$f" || all=; done
    [ -n "$all" ] && return 0
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "fetching the Pi 4 files needs apt-get and dpkg (Debian/Ubuntu)"
    say "fetching Raspberry Pi 4 files from Debian's arm64 packages into $RPI4_DIR"
    local work="$CACHE/apt"; rm -rf "$work"; mkdir -p "$work/lists/partial" "$work/cache" "$work/debs" "$work/x" "$RPI4_DIR"
    cat > "$work/apt.conf" <<APT
APT::Architecture "arm64"; APT::Architectures { "arm64"; };
Dir::State::Lists "$work/lists"; Dir::Cache "$work/cache";
Dir::Etc::SourceList "$work/sources.list"; Dir::Etc::SourceParts "/nonexistent";
APT::Sandbox::User "root";
APT
    echo "deb [arch=arm64] http://deb.debian.org/debian bookworm main non-free-firmware" > "$work/sources.list"
    echo "deb [arch=arm64] http://deb.debian.org/debian-security bookworm-security main" >> "$work/sources.list"
    export APT_CONFIG="$work/apt.conf"
    apt-get update -qq >/dev/null || die "apt-get update for arm64 packages failed"
    local kernel
    kernel=$(apt-cache depends linux-image-arm64 | sed -n 's/.*Depends: \(linux-image-[0-9].*-arm64\)$/\1/p' | head -1)
    [ -n "$kernel" ] || die "cannot resolve linux-image-arm64"
    (cd "$work/debs" && apt-get download -qq "$kernel" arm-trusted-firmware raspi-firmware >/dev/null 2>&1) \
        || die "apt-get download $kernel arm-trusted-firmware raspi-firmware failed"
    unset APT_CONFIG
    for d in "$work"/debs/*.deb; do dpkg -x "$d" "$work/x"; done
    find "$work/x" -name bcm2711-rpi-4-b.dtb -path '*broadcom*' -exec cp {} "$RPI4_DIR/" \;
    cp "$work/x/usr/lib/arm-trusted-firmware/rpi4/bl31.bin" "$RPI4_DIR/"
    cp "$work/x/usr/lib/raspi-firmware/start4.elf" "$work/x/usr/lib/raspi-firmware/fixup4.dat" "$RPI4_DIR/"
    rm -rf "$work"
    for f in bcm2711-rpi-4-b.dtb bl31.bin start4.elf fixup4.dat; do
        rpi4_file_ok "$f" || die "$RPI4_DIR/$f: missing, or its sha256 $(sha256sum "$RPI4_DIR/$f" 2>/dev/null | cut -c1-16)… is not pinned in scripts/lib.sh (Debian updated it? check, then add the hash)"
    done
}

# rpi4_dtb OUT BOOTARGS [MEMORY [INITRD_START INITRD_END]]: the Pi 4 tree
# with bootargs, and /memory and the initrd filled in as the firmware would
# (QEMU fills them only when it loads the kernel itself).
rpi4_dtb() {
    cp "$RPI4_DIR/bcm2711-rpi-4-b.dtb" "$1"
    fdtput -t s "$1" /chosen bootargs "$2"
    [ -z "${3:-}" ] || fdtput -t x "$1" /memory@0 reg 0 0 "$3"
    if [ -n "${4:-}" ]; then
        fdtput -t x "$1" /chosen linux,initrd-start "$4"
        fdtput -t x "$1" /chosen linux,initrd-end "$5"
    fi
}

# rpi4_bl31 OUT: TF-A's bl31 with the armstub parameters the Pi firmware would
# fill in: magic cleared, DTB at 0x0800_0000, kernel entry 0x8_0000.
rpi4_bl31() {
    cp "$RPI4_DIR/bl31.bin" "$1"
    printf '\x00\x00\x00\x00' | dd of="$1" bs=1 seek=$((0xf0)) conv=notrunc status=none
    printf '\x00\x00\x00\x08' | dd of="$1" bs=1 seek=$((0xf8)) conv=notrunc status=none
    printf '\x00\x00\x08\x00' | dd of="$1" bs=1 seek=$((0xfc)) conv=notrunc status=none
}
