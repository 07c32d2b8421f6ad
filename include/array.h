/* Arrays that grow: the one way the sentry enlarges a heap array, by
 * doubling, so that n appends cost O(n) copies in all. */
#ifndef ARRAY_H
#define ARRAY_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Make the array at *arrp (a pointer to its first of *cap elements of
 * elem bytes) hold at least need elements, its capacity doubled from
 * first (or from *cap) as often as that takes: 0, or -ENOMEM with the
 * array as it was. Use it through ARRAY_GROW. */
static inline int array_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    void *old, *n;
    memcpy(&old, arrp, sizeof(old));
    n = realloc(old, c * elem);
    if (!n)
        return -ENOMEM;
    memcpy(arrp, &n, sizeof(n));
    *cap = c;
    return 0;
}

/* ARRAY_GROW(s->v, s->cap, s->n + 1, 16): s->v (any T *) holds at least
 * s->n + 1 elements, s->cap (a size_t) its new capacity. */
#define ARRAY_GROW(arr, cap, need, first)                                                          \
    array_grow(&(arr), &(cap), (need), sizeof(*(arr)), (first))

#endif
