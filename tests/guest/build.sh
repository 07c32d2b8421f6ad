#!/usr/bin/env bash
# build.sh: compiles every guest test into OUTDIR: musl static (the default,
# named after the source), plus glibc static (hello.glibc, misc.glibc,
# futex.glibc, proc_fork.glibc, proc_vfork.glibc, proc_threads.glibc,
# sig_fault.glibc, sig_unwind.glibc, sig_gdb.glibc),
# static-PIE builds of hello (hello.pie.glibc, hello.pie.musl) and
# dynamically linked glibc builds (hello.dyn, misc.dyn, and hello.nopie.dyn
# at fixed addresses).
# Usage: tests/guest/build.sh OUTDIR
# Env: MUSL_GCC (musl-gcc), GLIBC_CC (gcc), MUSL_LIBDIR (found from musl-gcc).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"

musl_gcc=${MUSL_GCC:-musl-gcc}
glibc_cc=${GLIBC_CC:-gcc}
warn=(-O1 -Wall -Wextra -Werror -std=gnu17)
# The stub tests read the sandbox's own layout headers (stub_util.h).
inc=(-I "$src/../../include")

# musl-gcc has no static-PIE support of its own (its specs always pick
# Scrt1.o and add an interpreter), so that build links by hand.
musl_libdir=${MUSL_LIBDIR:-}
if [ -z "$musl_libdir" ]; then
    specs=$(grep -o '/[^"]*musl-gcc\.specs' "$(command -v "$musl_gcc")" || true)
    musl_libdir=$(dirname "${specs:-/usr/lib/x86_64-linux-musl/x}")
fi

pids=()
run() { "$@" & pids+=($!); }

for c in "$src"/*.c; do
    name=$(basename "$c" .c)
    # glibc only: the host's libgcc_eh (the unwinder) needs glibc's
    # _dl_find_object.
    [ "$name" = sig_unwind ] && continue
    # sig_gdb is for gdb to read: with its debugging information.
    dbg=()
    [ "$name" = sig_gdb ] && dbg=(-g)
    run "$musl_gcc" -static "${warn[@]}" "${dbg[@]}" "${inc[@]}" "$c" -o "$out/$name"
done
run "$glibc_cc" -static -g "${warn[@]}" "$src/sig_gdb.c" -o "$out/sig_gdb.glibc"
run "$glibc_cc" -static "${warn[@]}" "$src/hello.c" -o "$out/hello.glibc"
run "$glibc_cc" -static "${warn[@]}" "$src/misc.c" -o "$out/misc.glibc"
run "$glibc_cc" -static "${warn[@]}" "$src/futex.c" -o "$out/futex.glibc"
# Dynamically linked (PIE, with the host's glibc and its dynamic linker):
# the sandbox loads the interpreter and the guest's ld.so maps the rest.
run "$glibc_cc" "${warn[@]}" "$src/hello.c" -o "$out/hello.dyn"
run "$glibc_cc" "${warn[@]}" "$src/misc.c" -o "$out/misc.dyn"
run "$glibc_cc" -no-pie "${warn[@]}" "$src/hello.c" -o "$out/hello.nopie.dyn"
# Processes and threads where glibc's own clone, fork, posix_spawn and
# pthread code matter.
for t in proc_fork proc_vfork proc_threads sig_fault sig_unwind; do
    run "$glibc_cc" -static "${warn[@]}" "$src/$t.c" -o "$out/$t.glibc"
done
run "$glibc_cc" -static-pie -fPIE "${warn[@]}" "$src/hello.c" \
    -o "$out/hello.pie.glibc"

# musl static-PIE: compile against musl headers, then let gcc drive the
# link with -static-pie but with musl's rcrt1.o (which self-relocates).
pie_musl() {
    local obj="$out/hello.pie.musl.o"
    "$musl_gcc" -fPIE "${warn[@]}" -c "$src/hello.c" -o "$obj"
    "$glibc_cc" -static-pie -nostdlib -nostartfiles \
        "$musl_libdir/rcrt1.o" "$musl_libdir/crti.o" \
        "$("$glibc_cc" -print-file-name=crtbeginS.o)" "$obj" \
        -L"$musl_libdir" -lc "$("$glibc_cc" -print-libgcc-file-name)" \
        "$("$glibc_cc" -print-file-name=crtendS.o)" "$musl_libdir/crtn.o" \
        -o "$out/hello.pie.musl"
    rm -f "$obj"
}
run pie_musl

rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[ $rc -eq 0 ] || { echo "build.sh: compile failed" >&2; exit 1; }

# A static PIE is ET_DYN with no PT_INTERP; anything else is a wrong build.
# The same for the dynamic builds: PT_INTERP, and ET_EXEC for the non-PIE one.
if command -v readelf >/dev/null; then
    for b in hello.pie.glibc hello.pie.musl; do
        h=$(readelf -hl "$out/$b")
        if ! grep -q 'Type:.*DYN' <<<"$h" || grep -q INTERP <<<"$h"; then
            echo "build.sh: $b is not a static PIE" >&2
            exit 1
        fi
    done
    for b in hello.dyn hello.nopie.dyn; do
        h=$(readelf -hl "$out/$b")
        want=DYN
        [ "$b" = hello.nopie.dyn ] && want=EXEC
        if ! grep -q "Type:.*$want" <<<"$h" || ! grep -q INTERP <<<"$h"; then
            echo "build.sh: $b is not a dynamic $want program" >&2
            exit 1
        fi
    done
fi
