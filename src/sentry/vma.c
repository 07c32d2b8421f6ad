/* The VMA set: a sorted array of non-overlapping page ranges, with the
 * splitting and searching that mmap, munmap, mprotect and mremap need.
 * Each VMA of a file holds a reference to it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "fs/file/file.h"
#include "sentry/mm.h"

void vma_set_init(struct vma_set *s)
{
    memset(s, 0, sizeof(*s));
}

/* Around each change of a set: its readers' lock, if it has one. */
static void change_begin(struct vma_set *s)
{
    if (s->lock)
        pthread_mutex_lock(s->lock);
}

static void change_end(struct vma_set *s)
{
    if (s->lock)
        pthread_mutex_unlock(s->lock);
}

void vma_set_free(struct vma_set *s)
{
    change_begin(s);
    struct vma *v = s->v;
    size_t n = s->n;
    pthread_mutex_t *lock = s->lock;
    memset(s, 0, sizeof(*s));
    s->lock = lock;
    change_end(s);
    for (size_t i = 0; i < n; i++)
        if (v[i].file)
            file_put(v[i].file);
    free(v);
}

/* Index of the first VMA whose end is above addr (binary search). */
static size_t first_above(const struct vma_set *s, uint64_t addr)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long vma_find(const struct vma_set *s, uint64_t addr)
{
    size_t i = first_above(s, addr);
    if (i < s->n && s->v[i].start <= addr)
        return (long)i;
    return -1;
}

long vma_find_above(const struct vma_set *s, uint64_t addr)
{
    size_t i = first_above(s, addr);
    return i < s->n ? (long)i : -1;
}

int vma_overlaps(const struct vma_set *s, uint64_t start, uint64_t end)
{
    size_t i = first_above(s, start);
    return i < s->n && s->v[i].start < end;
}

int vma_overlaps_kind(const struct vma_set *s, uint64_t start, uint64_t end, int kind)
{
    for (size_t i = first_above(s, start); i < s->n && s->v[i].start < end; i++)
        if (s->v[i].kind == kind)
            return 1;
    return 0;
}

int vma_covers(const struct vma_set *s, uint64_t start, uint64_t end)
{
    uint64_t at = start;
    for (size_t i = first_above(s, start); i < s->n && at < end; i++) {
        if (s->v[i].start > at)
            return 0;
        at = s->v[i].end;
    }
    return at >= end;
}

static int reserve(struct vma_set *s, size_t more)
{
    return ARRAY_GROW(s->v, s->cap, s->n + more, 16);
}

static int insert_vma(struct vma_set *s, const struct vma *v)
{
    if (v->start >= v->end)
        return -EINVAL;
    if (vma_overlaps(s, v->start, v->end))
        return -EEXIST;
    if (reserve(s, 1) < 0)
        return -ENOMEM;
    size_t i = first_above(s, v->start);
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(s->v[0]));
    s->v[i] = *v;
    if (v->file)
        file_get(v->file);
    s->n++;
    return 0;
}

int vma_insert_vma(struct vma_set *s, const struct vma *v)
{
    change_begin(s);
    int r = insert_vma(s, v);
    change_end(s);
    return r;
}

int vma_insert(struct vma_set *s, uint64_t start, uint64_t end, int prot, int flags, int kind)
{
    struct vma v = { .start = start, .end = end, .prot = prot, .flags = flags, .kind = kind };
    return vma_insert_vma(s, &v);
}

/* Split the VMA containing addr so that a VMA boundary lies at addr. */
static int split_at(struct vma_set *s, uint64_t addr)
{
    long i = vma_find(s, addr);
    if (i < 0 || s->v[i].start == addr)
        return 0;
    if (reserve(s, 1) < 0)
        return -ENOMEM;
    memmove(&s->v[i + 1], &s->v[i], (s->n - (size_t)i) * sizeof(s->v[0]));
    s->n++;
    s->v[i].end = addr;
    s->v[i + 1].start = addr;
    /* The upper part maps the file from further in, with its own reference. */
    s->v[i + 1].off += addr - s->v[i].start;
    if (s->v[i + 1].file)
        file_get(s->v[i + 1].file);
    return 0;
}

static int remove_range(struct vma_set *s, uint64_t start, uint64_t end)
{
    if (start >= end)
        return 0;
    if (split_at(s, start) < 0 || split_at(s, end) < 0)
        return -ENOMEM;
    size_t i = first_above(s, start), j = i;
    for (; j < s->n && s->v[j].start < end; j++)
        if (s->v[j].file)
            file_put(s->v[j].file);
    if (j > i && s->n > j)
        memmove(&s->v[i], &s->v[j], (s->n - j) * sizeof(s->v[0]));
    s->n -= j - i;
    return 0;
}

int vma_remove(struct vma_set *s, uint64_t start, uint64_t end)
{
    change_begin(s);
    int r = remove_range(s, start, end);
    change_end(s);
    return r;
}

static void merge_range(struct vma_set *s, uint64_t start, uint64_t end);

/* Set a field of every VMA over [start, end) with set, split at both
 * ends and merged again after. */
static int set_range(struct vma_set *s, uint64_t start, uint64_t end,
                     void (*set)(struct vma *v, int val), int val)
{
    change_begin(s);
    int r = split_at(s, start) < 0 || split_at(s, end) < 0 ? -ENOMEM : 0;
    if (r == 0) {
        for (size_t i = first_above(s, start); i < s->n && s->v[i].start < end; i++)
            set(&s->v[i], val);
        merge_range(s, start, end);
    }
    change_end(s);
    return r;
}

static void set_prot(struct vma *v, int prot)
{
    v->prot = prot;
}

int vma_protect(struct vma_set *s, uint64_t start, uint64_t end, int prot)
{
    if (!vma_covers(s, start, end))
        return -ENOMEM;
    return set_range(s, start, end, set_prot, prot);
}

uint64_t vma_find_free(const struct vma_set *s, uint64_t len, uint64_t above, uint64_t below)
{
    if (len == 0 || below < above || below - above < len)
        return 0;
    /* Walk gaps from the top down. */
    uint64_t top = below;
    size_t i = first_above(s, below);
    /* VMAs at index < i end at or below `below`... except one straddling it. */
    if (i < s->n && s->v[i].start < below)
        top = s->v[i].start;
    for (;;) {
        uint64_t floor = i > 0 ? s->v[i - 1].end : 0;
        if (floor < above)
            floor = above;
        if (top >= floor && top - floor >= len)
            return top - len;
        if (i == 0)
            return 0;
        i--;
        top = s->v[i].start;
        if (top <= above)
            return 0;
    }
}

uint64_t vma_find_free_low(const struct vma_set *s, uint64_t len, uint64_t above, uint64_t below)
{
    if (len == 0 || below < above || below - above < len)
        return 0;
    uint64_t at = above;
    for (size_t i = first_above(s, above); i < s->n && s->v[i].start < below; i++) {
        if (s->v[i].start >= at && s->v[i].start - at >= len)
            return at;
        at = s->v[i].end;
    }
    return at <= below && below - at >= len ? at : 0;
}

uint64_t vma_mapped_bytes(const struct vma_set *s, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (size_t i = first_above(s, start); i < s->n && s->v[i].start < end; i++) {
        const struct vma *v = &s->v[i];
        if (v->kind != VMA_STUB)
            n += (v->end < end ? v->end : end) - (v->start > start ? v->start : start);
    }
    return n;
}

uint64_t vma_locked_bytes(const struct vma_set *s, uint64_t start, uint64_t end)
{
    uint64_t n = 0;
    for (size_t i = first_above(s, start); i < s->n && s->v[i].start < end; i++) {
        const struct vma *v = &s->v[i];
        if (v->locked & VMA_LOCKED)
            n += (v->end < end ? v->end : end) - (v->start > start ? v->start : start);
    }
    return n;
}

/* Two adjacent VMAs that Linux would hold as one (vma_merge): the same
 * kind, protection, flags and locks, and the same file at contiguous
 * offsets. The loader's image segments, the stub, the vDSO and vvar stay
 * as they are. */
static int mergeable(const struct vma *a, const struct vma *b)
{
    return a->end == b->start && a->kind == b->kind && a->prot == b->prot && a->flags == b->flags &&
           a->noprot == b->noprot && a->locked == b->locked && a->file == b->file &&
           a->dev == b->dev && a->ino == b->ino &&
           (!a->file || a->off + (a->end - a->start) == b->off) && a->shm_id == b->shm_id &&
           (!a->shm_id || a->off + (a->end - a->start) == b->off) && a->kind != VMA_IMAGE &&
           a->kind != VMA_STUB && a->kind != VMA_VDSO && a->kind != VMA_VVAR;
}

/* Merge the VMAs in and next to [start, end) where Linux would, after a
 * change that split them (so that, as on Linux, mprotect or mlock of a
 * part and back leave one mapping that mremap can take whole). */
static void merge_range(struct vma_set *s, uint64_t start, uint64_t end)
{
    size_t i = first_above(s, start);
    if (i > 0)
        i--;
    while (i + 1 < s->n && s->v[i].start <= end) {
        if (!mergeable(&s->v[i], &s->v[i + 1])) {
            i++;
            continue;
        }
        s->v[i].end = s->v[i + 1].end;
        if (s->v[i + 1].file)
            file_put(s->v[i + 1].file);
        memmove(&s->v[i + 1], &s->v[i + 2], (s->n - i - 2) * sizeof(s->v[0]));
        s->n--;
    }
}

static void set_locked(struct vma *v, int locked)
{
    if (v->kind != VMA_STUB && v->kind != VMA_VDSO && v->kind != VMA_VVAR)
        v->locked = locked;
}

int vma_set_locked(struct vma_set *s, uint64_t start, uint64_t end, int locked)
{
    if (start >= end)
        return 0;
    return set_range(s, start, end, set_locked, locked);
}
