#!/usr/bin/env bash
# setup.sh: installs what sandbox-run needs on Debian 12 (as root), builds it
# into build/, and runs the demo program in the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc libc6-dev make meson ninja-build pkg-config libseccomp-dev libelf-dev check musl-tools procps busybox-static clang-format util-linux python3 binutils gdb)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: please run as root to install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The POSIX message queue file system at /dev/mqueue, as systemd and
# container runtimes mount it: the guest test ipc_mqueue_fs compares the
# sandbox's /dev/mqueue with the host's. (Run as root, the test mounts one
# in a mount namespace of its own when the host has none; the unprivileged
# run of tools/run-rootless.sh cannot.)
if [ "$(id -u)" -eq 0 ] && [ "$(stat -f -c %T /dev/mqueue 2>/dev/null)" != mqueue ]; then
    { mkdir -p /dev/mqueue && mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue; } ||
        echo "setup.sh: cannot mount /dev/mqueue (the guest test ipc_mqueue_fs needs it rootless)" >&2
fi

if [ -d build ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
ninja -C build >/dev/null
# The checkout is bound into the guest read-only at its own path, so the
# demo is found wherever the checkout is (under /tmp too, which the guest
# otherwise sees as its own empty tmpfs).
echo "== build/sandbox-run --bind \"\$PWD:\$PWD:ro\" --cwd \"\$PWD\" -- build/examples/demo"
build/sandbox-run --bind "$PWD:$PWD:ro" --cwd "$PWD" -- build/examples/demo
