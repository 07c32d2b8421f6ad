#!/usr/bin/env bash
# dynamic.sh: the host's own dynamically linked programs run in the
# sandbox (default root: the guest sees the host's tree, read-only) as
# they run natively: the sandbox loads each program's PT_INTERP dynamic
# linker from the guest's file system, which maps the libraries itself
# through the sandbox's openat and mmap. Each command's stdout and exit
# status must match a native run, on both platforms. A #! script run by
# the host's shell, a shell that execs the program, and execs between a
# static program (busybox, if static) and a dynamic one are part of it.
# Usage: tests/e2e/dynamic.sh SANDBOX_RUN
# Exit: 0 passed, 1 a failure, 2 setup error, 77 (skip) without the
# host's dynamic /bin/ls.
set -u
. "$(dirname "$0")/lib.sh"
e2e_init dynamic beside "$@"

if ! [ -x /bin/ls ] || ! file -L /bin/ls 2>/dev/null | grep -q 'dynamically linked'; then
    echo "skip: no dynamically linked /bin/ls"
    exit 77
fi
printf 'a file\nof two lines\n' >"$tmp/file"
cat >"$tmp/script.sh" <<'EOF'
#!/bin/sh
echo "script: $0 $*"
exec /bin/cat file
EOF
chmod +x "$tmp/script.sh"

# /dev, /proc and /tmp are the sandbox's own file systems: they differ,
# and so do the total and the width of the link count column with them.
ls_root() { "$@" /bin/ls -la / | grep -vE '^total | (dev|proc|tmp)$' | awk '{ $2 = ""; print }'; }

# run LABEL COMMAND...: native and sandboxed on each platform, compared.
run() {
    local label=$1
    shift
    local want got st_want st_got
    want=$(cd "$tmp" && env -u SANDBOX_RUN_GUEST "$@" 2>/dev/null)
    st_want=$?
    for plat in systrap ptrace; do
        got=$(cd "$tmp" && "$sb" --platform="$plat" --bind "$tmp:$tmp" -- "$@" 2>"$tmp/err")
        st_got=$?
        if [ "$want" == "$got" ] && [ "$st_want" -eq "$st_got" ]; then
            ok "$label ($plat)"
        else
            fail "$label ($plat): status native $st_want, sandboxed $st_got"
            diff <(echo "$want") <(echo "$got") | head -20
            head -5 "$tmp/err"
        fi
    done
}

# ls -la / with the sandbox's own mounts left out of both listings.
want=$(ls_root env)
for plat in systrap ptrace; do
    got=$(ls_root "$sb" --platform="$plat" -- 2>/dev/null)
    if [ "$want" == "$got" ]; then ok "/bin/ls -la / ($plat)"; else
        fail "/bin/ls -la / ($plat)"
        diff <(echo "$want") <(echo "$got") | head -20
    fi
done
run "/bin/true" /bin/true
run "/bin/false" /bin/false
run "env -i" /usr/bin/env -i A=1 /usr/bin/env
run "cat of a file" /bin/cat "$tmp/file"
run "ls of a directory" /bin/ls -la "$tmp/file"
if [ -x /usr/bin/python3 ]; then
    run "python3" /usr/bin/python3 -c 'import sys; print(sys.version_info[:2])'
    run "python3 -S" /usr/bin/python3 -S -c 'import os; print(os.getcwd(), len(os.listdir("/")) > 0)'
fi
[ -x /usr/bin/perl ] && run "perl" /usr/bin/perl -e 'print 1+1, "\n"'
run "sh -c with exec" /bin/sh -c 'echo from sh; exec /bin/echo exec done'
run "a #! script" "$tmp/script.sh" one two
run "env execs a program" /usr/bin/env /bin/echo via env
# From a static image to a dynamic one and back, in one address space.
if [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
    run "static execs dynamic" /bin/busybox sh -c 'exec /bin/echo static to dynamic'
    run "dynamic execs static" /bin/sh -c 'exec /bin/busybox echo dynamic to static'
fi

echo "# dynamic: $fails failed"
[ "$fails" -eq 0 ]
