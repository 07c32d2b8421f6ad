/* Intrusive circular doubly-linked lists, as Linux's list_head: a node
 * embedded in each element, a head that is a node of its own, O(1)
 * insertion and removal without a search. The locking is the owner's. */
#ifndef LIST_H
#define LIST_H

#include "base.h"

struct list_node {
    struct list_node *next, *prev;
};

#define LIST_INIT(name)                                                                            \
    {                                                                                              \
        &(name), &(name)                                                                           \
    }

static inline void list_init(struct list_node *h)
{
    h->next = h->prev = h;
}

static inline int list_empty(const struct list_node *h)
{
    return h->next == h;
}

/* Insert n before at (at the tail when at is the head). */
static inline void list_add_before(struct list_node *n, struct list_node *at)
{
    n->prev = at->prev;
    n->next = at;
    at->prev->next = n;
    at->prev = n;
}

static inline void list_add_tail(struct list_node *h, struct list_node *n)
{
    list_add_before(n, h);
}

static inline void list_add_head(struct list_node *h, struct list_node *n)
{
    list_add_before(n, h->next);
}

/* Unlink n and leave it a list of its own (so a second del is harmless). */
static inline void list_del(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_init(n);
}

#define list_entry(n, type, member) container_of(n, type, member)

/* for (each element e of type containing member, in order); e may be
 * unlinked in the body only with list_for_each_safe. */
#define list_for_each(e, h, type, member)                                                          \
    for (type *e = list_entry((h)->next, type, member); &e->member != (h);                         \
         e = list_entry(e->member.next, type, member))

#define list_for_each_safe(e, h, type, member)                                                     \
    for (type *e = list_entry((h)->next, type, member),                                            \
              *e##_next_ = list_entry(e->member.next, type, member);                               \
         &e->member != (h); e = e##_next_, e##_next_ = list_entry(e->member.next, type, member))

#endif
