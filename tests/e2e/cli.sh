#!/usr/bin/env bash
# cli.sh: sandbox-run's command line and exit statuses for bad user input,
# how PROGRAM is found (in the guest's file system), /proc/self/exe,
# address-space randomisation and --no-aslr, --strace output, and the
# one-time report of unimplemented syscalls.
# Usage: tests/e2e/cli.sh SANDBOX_RUN
# Env: E2E_SCRATCH, the parent of the scratch directory (default: next to
# SANDBOX_RUN; not under /tmp, which the guest sees as its own tmpfs).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init cli beside "$@"
cd "$tmp" || exit 2

# expect NAME STATUS STDERR-REGEX -- COMMAND...
expect() {
    local name=$1 want=$2 re=$3
    shift 4
    "$@" >out 2>err </dev/null
    local got=$?
    if [ "$got" -ne "$want" ] || ! grep -Eq -- "$re" err out; then
        echo "FAIL $name: status $got (want $want), output:"
        head -5 out err
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

cat > unimpl.c <<'C'
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    for (int i = 0; i < 3; i++) {
        long r = syscall(SYS_uselib, 0);       /* ENOSYS natively too (no CONFIG_USELIB) */
        long u = syscall(1000, 0);             /* no such syscall */
        printf("%ld %d %ld %d\n", r, r < 0 ? errno : 0, u, u < 0 ? errno : 0);
    }
    return 0;
}
C
musl-gcc -static -O1 -o unimpl unimpl.c || exit 2
# Children that wait on a pipe until it closes, until fork fails.
cat > forkbomb.c <<'C'
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int p[2], n = 0;
    pipe(p);
    for (;;) {
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            close(p[1]);
            read(p[0], &c, 1);
            _exit(0);
        }
        if (pid < 0)
            break;
        n++;
    }
    printf("forks %d errno %d\n", n, errno);
    return 0;
}
C
musl-gcc -static -O1 -o forkbomb forkbomb.c || exit 2
printf 'not an elf\n' > notelf && chmod +x notelf
printf '#!/nonexistent/sh\n' > badscript && chmod +x badscript
head -c 100 unimpl > truncated && chmod +x truncated
cp unimpl noexec && chmod -x noexec
mkdir adir

expect "--help"                 0   'usage: sandbox-run'          -- "$sb" --help
expect "--version"              0   '^sandbox-run [0-9]'          -- "$sb" --version
expect "unknown option"         2   'unknown option'              -- "$sb" --bogus -- ./unimpl
expect "unknown platform"       2   "unknown platform 'kvm'"      -- "$sb" --platform=kvm -- ./unimpl
expect "no program"             2   'no program given'            -- "$sb"
expect "--memory not a size"    2   '--memory zz: not a size'     -- "$sb" --memory=zz -- ./unimpl
expect "--memory 0"             2   '--memory 0: not a size'      -- "$sb" --memory=0 -- ./unimpl
expect "--memory 64m"           0   '^-1 38'                      -- "$sb" --memory=64m -- ./unimpl
expect "--max-procs: a fork bomb gets EAGAIN" 0 '^forks 19 errno 11$' -- "$sb" --max-procs=20 -- ./forkbomb
expect "--max-procs 0"          2   '--max-procs 0: not a number' -- "$sb" --max-procs=0 -- ./unimpl
expect "--max-procs x"          2   '--max-procs x: not a number' -- "$sb" --max-procs=x -- ./unimpl
expect "missing program"        127 '^sandbox-run: ./nope: No such file or directory$' -- "$sb" -- ./nope
expect "missing in PATH"        127 '^sandbox-run: nope-xyz: No such file or directory$' -- "$sb" -- nope-xyz
expect "not an ELF"             126 'not an x86-64 ELF program nor a #! script' -- "$sb" -- ./notelf
expect "truncated ELF"          126 'not a loadable x86-64 ELF'   -- "$sb" -- ./truncated
expect "not executable"         126 'Permission denied'           -- "$sb" -- ./noexec
expect "a directory"            126 'sandbox-run: ./adir: '       -- "$sb" -- ./adir
expect "dynamic executable"     0   '^dynamic ok$'                -- "$sb" -- /bin/echo dynamic ok
# As env and the shells: a missing #! interpreter is "not found".
expect "missing #! interpreter" 127 'interpreter /nonexistent/sh: No such file' -- "$sb" -- ./badscript

# PROGRAM is found in the guest's file system: with --root, host paths are
# not visible, guest paths are; PATH is the guest's, searched as execvp does.
mkdir -p root/bin root/other root/adir
cp unimpl root/bin/prog
cp unimpl root/other/prog && chmod 644 root/other/prog
expect "outside --root"         127 "^sandbox-run: $tmp/unimpl: No such file or directory\$" \
    -- "$sb" --root "$tmp/root" -- "$tmp/unimpl"
expect "guest path in --root"   0   '^-1 38 -1 38$'               -- "$sb" --root "$tmp/root" -- /bin/prog
expect "relative to guest cwd"  0   '^-1 38 -1 38$'               -- "$sb" --root "$tmp/root" --cwd /bin -- ./prog
expect "non-executable in root" 126 '^sandbox-run: /other/prog: Permission denied$' \
    -- "$sb" --root "$tmp/root" -- /other/prog
expect "a directory in root"    126 '^sandbox-run: /adir: Permission denied$' -- "$sb" --root "$tmp/root" -- /adir
expect "guest PATH"             0   '^-1 38 -1 38$'               -- env PATH=/nope:/bin "$sb" --root "$tmp/root" -- prog
expect "PATH: EACCES, then found" 0 '^-1 38 -1 38$'               -- env PATH=/other:/adir:/bin "$sb" --root "$tmp/root" -- prog
expect "PATH: only EACCES"      126 '^sandbox-run: prog: Permission denied$' \
    -- env PATH=/nope:/other "$sb" --root "$tmp/root" -- prog
expect "PATH: not in the guest" 127 '^sandbox-run: unimpl: No such file or directory$' \
    -- env PATH="$tmp" "$sb" --root "$tmp/root" -- unimpl
expect "a device node"          126 '^sandbox-run: /dev/null: Permission denied$' -- "$sb" -- /dev/null

# /proc/self/exe is the guest's file: readlink gives the guest path, open
# works; AT_EXECFN is the name given (for a PATH search, the name tried);
# argv[0] is left alone.
cat > exe.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char buf[4096] = "", magic[4] = "";
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd >= 0 && read(fd, magic, 4) != 4)
        magic[0] = 0;
    FILE *f = fopen("/proc/self/cmdline", "r");
    char cmd[256] = "";
    if (f && !fgets(cmd, sizeof(cmd), f))
        cmd[0] = 0;
    printf("exe=%s open=%s execfn=%s argv0=%s cmdline=%s argc=%d\n", n > 0 ? buf : "?",
           fd >= 0 && memcmp(magic, "\177ELF", 4) == 0 ? "elf" : "fail",
           (const char *)getauxval(AT_EXECFN), argv[0], cmd, argc);
    return 0;
}
C
musl-gcc -static -O1 -o exe exe.c || exit 2
cp exe root/bin/exe
expect "exe: absolute"          0 '^exe=/bin/exe open=elf execfn=/bin/exe argv0=/bin/exe cmdline=/bin/exe argc=1$' \
    -- "$sb" --root "$tmp/root" -- /bin/exe
expect "exe: relative"          0 '^exe=/bin/exe open=elf execfn=\./exe argv0=\./exe cmdline=\./exe argc=1$' \
    -- "$sb" --root "$tmp/root" --cwd /bin -- ./exe
expect "exe: PATH search"       0 '^exe=/bin/exe open=elf execfn=/bin/exe argv0=exe cmdline=exe argc=1$' \
    -- env PATH=/nope:/bin "$sb" --root "$tmp/root" -- exe
expect "exe: bind mount"        0 '^exe=/mnt/exe open=elf execfn=/mnt/exe argv0=/mnt/exe cmdline=/mnt/exe argc=1$' \
    -- "$sb" --root "$tmp/root" --bind "$tmp:/mnt:ro" -- /mnt/exe

# Address-space randomisation: two runs place the stack (page and offset
# within it), the mmap area and the break differently; with --no-aslr (the
# guest's personality then has ADDR_NO_RANDOMIZE) they are the same.
cat > layout.c <<'C'
#include <stdio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    (void)argc;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("stack=%p mmap=%p brk=%#lx persona=%#x\n", (void *)argv, m, syscall(SYS_brk, 0),
           personality(0xffffffff));
    return 0;
}
C
musl-gcc -static -O1 -o layout layout.c || exit 2
for p in systrap ptrace; do
    for mode in aslr no-aslr; do
        opt=(); [ $mode = no-aslr ] && opt=(--no-aslr)
        a=$("$sb" --platform=$p "${opt[@]}" -- ./layout 2>&1)
        b=$("$sb" --platform=$p "${opt[@]}" -- ./layout 2>&1)
        same=$(for k in stack mmap brk; do
            x=$(grep -o "$k=[^ ]*" <<<"$a"); y=$(grep -o "$k=[^ ]*" <<<"$b")
            [ -n "$x" ] && [ "$x" = "$y" ] && printf '%s ' "$k"
        done)
        want_persona=0; [ $mode = no-aslr ] && want_persona=0x40000
        if ! [ "$(grep -c "persona=$want_persona\$" <<<"$a"$'\n'"$b")" -eq 2 ] ||
            { [ $mode = aslr ] && [ -n "$same" ]; } ||
            { [ $mode = no-aslr ] && [ "$same" != "stack mmap brk " ]; }; then
            echo "FAIL $mode ($p): same in both runs: '$same'"; echo "  $a"; echo "  $b"
            fails=$((fails + 1))
        else
            echo "ok   $mode ($p)"
        fi
    done
done

for p in systrap ptrace; do
    expect "unimplemented reported ($p)" 0 'unimplemented syscall uselib' -- "$sb" --platform=$p -- ./unimpl
    n=$(grep -c 'unimplemented syscall uselib' err)
    m=$(grep -c 'unknown syscall 1000' err)
    if [ "$n" -ne 1 ] || [ "$m" -ne 1 ]; then
        echo "FAIL reported once ($p): uselib $n times, 1000 $m times"
        fails=$((fails + 1))
    fi
    if ! grep -qx -- '-1 38 -1 38' out || [ "$(grep -c . out)" -ne 3 ]; then
        echo "FAIL ENOSYS returned ($p)"; cat out; fails=$((fails + 1))
    fi
    expect "--strace ($p)" 0 '^uselib\(0x0, .*\) = -1 ENOSYS \(Function not implemented\)$' \
        -- "$sb" --platform=$p --strace -- ./unimpl
    if ! grep -Eq '^writev\(1, \[\{iov_base="-1 38 -1 38", iov_len=11\}, \{iov_base="\\n", iov_len=1\}\], 2\) = 12$' err; then
        echo "FAIL --strace shows the write ($p)"; grep -E 'write' err | head -3; fails=$((fails + 1))
    fi
    if ! grep -Eq '^exit_group\(0\) = \?$' err; then
        echo "FAIL --strace shows exit_group ($p)"; fails=$((fails + 1))
    fi
done

# 64-bit file offsets are shown as strace shows them: signed for lseek,
# pread64, fallocate and preadv(2) (whose split offset is one argument),
# unsigned for truncate's length.
cat > offsets.c <<'C'
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
int main(void)
{
    char b[4];
    struct iovec v = { b, 4 };
    syscall(SYS_lseek, 0, -1L, 0);
    syscall(SYS_pread64, 0, b, 4, -2L);
    syscall(SYS_ftruncate, 0, -1L);
    syscall(SYS_fallocate, 0, 0, -1L, -2L);
    syscall(SYS_preadv, 0, &v, 1, -1L, 0);
    syscall(SYS_preadv2, 0, &v, 1, -3L, 0, 0);
    return 0;
}
C
musl-gcc -static -O1 -o offsets offsets.c || exit 2
expect "--strace offsets" 0 '^lseek\(0, -1, 0\) = ' -- "$sb" --strace -- ./offsets
for re in '^pread64\(0, 0x[0-9a-f]+, 4, -2\) = -1 EINVAL' '^ftruncate\(0, 18446744073709551615\) = -1 EINVAL' \
    '^fallocate\(0, 0, -1, -2\) = -1 EINVAL' '^preadv\(0, 0x[0-9a-f]+, 1, -1\) = -1 EINVAL' \
    '^preadv2\(0, 0x[0-9a-f]+, 1, -3, 0x0\) = -1 EINVAL'; do
    if ! grep -Eq -- "$re" err; then
        echo "FAIL --strace offsets: no line $re"; grep -E 'seek|read|trunc|fall' err | head -6
        fails=$((fails + 1))
    fi
done

# uprobe (336) and uretprobe (335) pass every seccomp filter (Linux 6.11,
# 6.18): under systrap the host kernel answers them in the stub, so --strace
# must not show them as calls the sentry made; uretprobe's SIGILL is shown
# as the host's signal after a syscall instruction. Under ptrace the sentry
# sees and answers both.
cat > probes.c <<'C'
#include <unistd.h>
int main(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(336L) : "rcx", "r11", "memory");
    if (r != -6) /* ENXIO */
        return 1;
    __asm__ volatile("syscall" : "=a"(r) : "a"(335L) : "rcx", "r11", "memory");
    return 2;
}
C
musl-gcc -static -O1 -o probes probes.c || exit 2
expect "uprobe, uretprobe past seccomp (systrap)" 132 \
    '^--- SIGILL \{si_signo=SIGILL, si_code=SI_KERNEL, si_addr=0x0\} --- \(after a syscall instruction: a syscall the host kernel ran past seccomp\)$' \
    -- "$sb" --platform=systrap --strace -- ./probes
if grep -Eq '^(uprobe|uretprobe|syscall_33[56])\(|unimplemented syscall|unknown syscall' err; then
    echo "FAIL --strace (systrap) claims the sentry saw uprobe or uretprobe:"; grep -E 'probe|syscall' err | head -3
    fails=$((fails + 1))
fi
expect "uprobe, uretprobe (ptrace)" 132 '^uretprobe\(\) = \?$' -- "$sb" --platform=ptrace --strace -- ./probes
if ! grep -qx 'uprobe() = -1 ENXIO (No such device or address)' err; then
    echo "FAIL --strace (ptrace) shows uprobe's ENXIO"; fails=$((fails + 1))
fi

# Supplementary groups are the host process's: run with some (setpriv, as
# root) and compare getgroups and /proc/self/status with a native run.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    cat > groups.c <<'C'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    gid_t g[64];
    int n = getgroups(64, g);
    printf("%d:", n);
    for (int i = 0; i < n; i++)
        printf(" %u", (unsigned)g[i]);
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Groups:", 7) == 0)
            printf("\n%s", line);
    return 0;
}
C
    musl-gcc -static -O1 -o groups groups.c || exit 2
    setpriv --groups 100,5,70000,3 ./groups >groups.native 2>&1
    for p in systrap ptrace; do
        setpriv --groups 100,5,70000,3 "$sb" --platform=$p -- ./groups >groups.out 2>&1
        if cmp -s groups.native groups.out && grep -q '^4: 3 5 100 70000$' groups.out; then
            echo "ok   supplementary groups ($p)"
        else
            echo "FAIL supplementary groups ($p):"; cat groups.native groups.out
            fails=$((fails + 1))
        fi
    done
fi

# --user UID:GID: the guest's ids (real, effective, saved, fs), no
# supplementary groups, capabilities only for uid 0; bad values are a usage
# error.
cat > ids.c <<'C'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) || !strncmp(line, "Groups:", 7) ||
            !strncmp(line, "CapEff:", 7))
            fputs(line, stdout);
    return 0;
}
C
musl-gcc -static -O1 -o ids ids.c || exit 2
chmod 755 . ids
expect "--user 1000:100"        0   '^Uid:	1000	1000	1000	1000$' -- "$sb" --user 1000:100 -- ./ids
if ! grep -q '^Gid:	100	100	100	100$' out || ! grep -q '^Groups:	 $' out ||
    ! grep -q '^CapEff:	0000000000000000$' out; then
    echo "FAIL --user 1000:100: gids, groups or capabilities:"; cat out
    fails=$((fails + 1))
fi
expect "--user=0:0 has every capability" 0 '^CapEff:	000001ffffffffff$' -- "$sb" --user=0:0 -- ./ids
expect "--user without GID"     2   '^sandbox-run: --user 1000: expected UID:GID' -- "$sb" --user 1000 -- ./ids
expect "--user -1"              2   'expected UID:GID'            -- "$sb" --user 1:4294967295 -- ./ids
expect "--user not a number"    2   'expected UID:GID'            -- "$sb" --user root:root -- ./ids

# The stub process of a running guest: no host descriptor but its end of the
# fd-passing socket (fd 4), seccomp filter on, no new privileges, text sealed
# (where the kernel has mseal).
cat > reader.c <<'C'
#include <unistd.h>
int main(void) { char c; return (int)read(0, &c, 1); }
C
musl-gcc -static -O1 -o reader reader.c || exit 2
mkfifo fifo
for p in systrap ptrace; do
    "$sb" --platform=$p -- ./reader <fifo >/dev/null 2>&1 &
    sbpid=$!
    exec 9>fifo
    stub=
    for _ in $(seq 100); do
        # sandbox-run -> the spawner -> the stub
        stub=$(pgrep -P "$(pgrep -P "$sbpid" | head -1)" | head -1)
        [ -n "$stub" ] && grep -q '^Seccomp:.*2' "/proc/$stub/status" 2>/dev/null &&
            [ "$(ls "/proc/$stub/fd" 2>/dev/null)" = 4 ] && break
        sleep 0.05
    done
    fds=$(ls "/proc/$stub/fd" 2>/dev/null | tr '\n' ' ')
    if [ -z "$stub" ] || [ "$fds" != "4 " ] ||
        ! readlink "/proc/$stub/fd/4" | grep -q '^socket:' ||
        ! grep -q '^Seccomp:.*2' "/proc/$stub/status" ||
        ! grep -q '^NoNewPrivs:.*1' "/proc/$stub/status"; then
        echo "FAIL stub confinement ($p): pid '$stub', fds '$fds'"
        fails=$((fails + 1))
    else
        echo "ok   stub confinement ($p)"
    fi
    # mseal exists from Linux 6.10 on; there the stub's text must be sealed.
    if [ "$(uname -r | awk -F. '{ print ($1 * 100 + $2 >= 610) }')" = 1 ] &&
        ! awk '/^7e0000000000-/ { f = 1 } f && /^VmFlags/ { print; exit }' "/proc/$stub/smaps" |
        grep -qw sl; then
        echo "FAIL stub text sealed ($p)"
        fails=$((fails + 1))
    fi
    printf x >&9
    exec 9>&-
    wait "$sbpid"
done

echo "# cli: $fails failed"
[ "$fails" -eq 0 ]
