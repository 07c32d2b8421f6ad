/* Shared by the Check suites that sleep: a bare task for the wait
 * primitive, with nothing else of a task set. */
#ifndef TESTS_UNIT_UNIT_TASK_H
#define TESTS_UNIT_UNIT_TASK_H

#include <check.h>
#include <stdlib.h>

#include "sched/wait.h"
#include "sentry/kernel.h"

/* A zeroed task with its sleeper made (freed with free()). */
static inline struct task *unit_task_new(void)
{
    struct task *t = calloc(1, sizeof(*t));
    ck_assert_ptr_nonnull(t);
    sleeper_init(&t->sleep);
    return t;
}

#endif
