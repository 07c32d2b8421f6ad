/* Unit test of epoll's item limit: EPOLL_CTL_ADD past the sandbox's
 * max_user_watches gives ENOSPC; a removed item, or a closed set's items,
 * give their room back. */
#define _GNU_SOURCE
#include <check.h>

#include "unit.h"
#include <errno.h>
#include <sys/epoll.h>

#include "fs/file/eventfd.h"
#include "fs/file/eventpoll.h"
#include "fs/file/file.h"

START_TEST(max_user_watches)
{
    eventpoll_set_max_watches(3);
    struct file *a = eventpoll_new(0), *b = eventpoll_new(0);
    struct file *e[4];
    for (int i = 0; i < 4; i++)
        e[i] = eventfd_file(0, 0);
    struct ep_event ev = { EPOLLIN, 0 };
    ck_assert_int_eq(eventpoll_ctl(a, EPOLL_CTL_ADD, e[0], 3, &ev), 0);
    ck_assert_int_eq(eventpoll_ctl(a, EPOLL_CTL_ADD, e[1], 4, &ev), 0);
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[0], 3, &ev), 0);
    /* Counted over every set. */
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[2], 5, &ev), -ENOSPC);
    ck_assert_int_eq(eventpoll_ctl(a, EPOLL_CTL_ADD, e[3], 6, &ev), -ENOSPC);
    /* A removed item gives its room back. */
    ck_assert_int_eq(eventpoll_ctl(a, EPOLL_CTL_DEL, e[1], 4, NULL), 0);
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[2], 5, &ev), 0);
    /* So do the items of a set that goes. */
    file_put(a);
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[3], 6, &ev), 0);
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[1], 4, &ev), -ENOSPC);
    /* An item already there (the same file and fd) is EEXIST first, as Linux. */
    ck_assert_int_eq(eventpoll_ctl(b, EPOLL_CTL_ADD, e[0], 3, &ev), -EEXIST);
    file_put(b);
    for (int i = 0; i < 4; i++)
        file_put(e[i]);
    eventpoll_set_max_watches(0);
}
END_TEST

UNIT_MAIN("epoll", "core", NULL, NULL, 30, max_user_watches)
