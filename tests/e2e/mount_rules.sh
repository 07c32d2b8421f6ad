#!/usr/bin/env bash
# mount_rules.sh: what the guest's mount options mean for host-visible and
# sandbox-kept state, where a guest test cannot compare with a native run
# (no read-only bind mount or size-limited tmpfs exists natively):
# - a read-only bind mount never moves a host file's atime (Linux updates
#   no atime on a read-only mount), a writable one does under relatime;
# - a --tmpfs with size=N charges the pages files have: a huge ftruncate
#   succeeds, writes past the limit are short then ENOSPC, statfs's
#   f_bfree follows, punching a hole frees room.
# Usage: tests/e2e/mount_rules.sh SANDBOX_RUN
# Env: E2E_SCRATCH, the parent of the scratch directory (default: next to
# SANDBOX_RUN; not under /tmp, which the guest sees as its own tmpfs).
set -u
. "$(dirname "$0")/lib.sh"
e2e_init mount_rules beside "$@"
cd "$tmp" || exit 2

cat > reader.c <<'C'
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    char buf[64];
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof buf) < 0)
        return 1;
    DIR *d = opendir(argv[2]);
    if (!d)
        return 1;
    while (readdir(d))
        ;
    closedir(d);
    return 0;
}
C
cat > limit.c <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
/* On a 16-page tmpfs at argv[1]. */
int main(int argc, char **argv)
{
    (void)argc;
    static char page[4096 * 4];
    memset(page, 'x', sizeof page);
    char p[256];
    snprintf(p, sizeof p, "%s/f", argv[1]);
    int fd = open(p, O_CREAT | O_RDWR, 0600);
    struct statfs s;
    struct stat st;
    fstatfs(fd, &s);
    printf("blocks %ld free %ld\n", (long)s.f_blocks, (long)s.f_bfree);
    printf("ftruncate 1G %d\n", ftruncate(fd, 1L << 30));
    fstatfs(fd, &s);
    printf("free after ftruncate %ld\n", (long)s.f_bfree);
    long total = 0, r;
    off_t at = 0;
    /* Scattered writes: every other 4-page chunk. */
    while ((r = pwrite(fd, page, sizeof page, at)) == (long)sizeof page) {
        total += r;
        at += 2 * sizeof page;
    }
    printf("full writes %ld, then %ld (%s)\n", total / 4096, r, r < 0 ? strerror(errno) : "short");
    r = pwrite(fd, page, 1, at + 8 * sizeof page);
    printf("next write %ld (%s)\n", r, r < 0 ? strerror(errno) : "");
    fstatfs(fd, &s);
    fstat(fd, &st);
    printf("free %ld, file blocks %ld\n", (long)s.f_bfree, (long)st.st_blocks);
    printf("rewrite %ld\n", (long)pwrite(fd, page, sizeof page, 0));
    printf("fallocate %d\n", fallocate(fd, 0, 1L << 29, 4096) == 0 ? 0 : -errno);
    printf("punch %d\n", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 2 * 4096));
    fstatfs(fd, &s);
    printf("free after punch %ld\n", (long)s.f_bfree);
    printf("fallocate %d\n", fallocate(fd, 0, 1L << 29, 4096) == 0 ? 0 : -errno);
    fstatfs(fd, &s);
    printf("free %ld\n", (long)s.f_bfree);
    return 0;
}
C
musl-gcc -static -O1 -o reader reader.c || exit 2
musl-gcc -static -O1 -o limit limit.c || exit 2

# atime: an atime older than mtime is updated by a relatime read.
mkdir data
echo hello > data/f
old=$(($(date +%s) - 1000))
atime_of() { stat -c %X "$1"; }
reset() {
    touch -m data/f data && touch -a -d "@$old" data/f data
}
reset
"$sb" --bind "$tmp/data:/data:ro" --bind "$tmp:$tmp:ro" -- "$tmp/reader" /data/f /data
st=$?
if [ $st -eq 0 ] && [ "$(atime_of data/f)" = "$old" ] && [ "$(atime_of data)" = "$old" ]; then
    ok "read-only bind mount: host atime unchanged"
else
    fail "read-only bind mount: status $st, atime $(atime_of data/f) dir $(atime_of data), was $old"
fi
reset
"$sb" --bind "$tmp/data:/data" --bind "$tmp:$tmp:ro" -- "$tmp/reader" /data/f /data
st=$?
if [ $st -eq 0 ] && [ "$(atime_of data/f)" != "$old" ] && [ "$(atime_of data)" != "$old" ]; then
    ok "writable bind mount: host atime updated (relatime)"
else
    fail "writable bind mount: status $st, atime $(atime_of data/f) dir $(atime_of data), was $old"
fi

# A 64 KiB tmpfs: 16 pages.
got=$("$sb" --tmpfs=/lim:size=64k --bind "$tmp:$tmp:ro" -- "$tmp/limit" /lim 2>&1)
want='blocks 16 free 16
ftruncate 1G 0
free after ftruncate 16
full writes 16, then -1 (No space left on device)
next write -1 (No space left on device)
free 0, file blocks 128
rewrite 16384
fallocate -28
punch 0
free after punch 2
fallocate 0
free 1'
if [ "$got" = "$want" ]; then
    ok "size-limited tmpfs charges pages"
else
    fail "size-limited tmpfs:"
    diff <(echo "$want") <(echo "$got")
fi

[ $fails -eq 0 ]
