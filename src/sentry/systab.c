/* The syscall table built from syscalls.def, lookup by number, and the
 * names of every x86-64 syscall (implemented or not). */
#define _GNU_SOURCE
#include <pthread.h>
#include <seccomp.h>

#include "base.h"
#include "sentry/syscall.h"

const struct syscall_desc syscall_table[] = {
#define SYS(nr_, name_, ret_, a1, a2, a3, a4, a5, a6, flags_)                                      \
    { .nr = nr_,                                                                                   \
      .name = #name_,                                                                              \
      .fn = sys_##name_,                                                                           \
      .ret = ret_,                                                                                 \
      .nargs = (a1 != K_NONE) + (a2 != K_NONE) + (a3 != K_NONE) + (a4 != K_NONE) +                 \
               (a5 != K_NONE) + (a6 != K_NONE),                                                    \
      .args = { a1, a2, a3, a4, a5, a6 },                                                          \
      .flags = flags_ },
#include "sentry/syscalls.def"
#undef SYS
};
const int syscall_table_len = ARRAY_SIZE(syscall_table);

static const struct syscall_desc *by_nr[SYSCALL_MAX];
static pthread_once_t by_nr_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
    for (int i = 0; i < syscall_table_len; i++)
        if (syscall_table[i].nr >= 0 && syscall_table[i].nr < SYSCALL_MAX)
            by_nr[syscall_table[i].nr] = &syscall_table[i];
}

const struct syscall_desc *syscall_lookup(uint64_t nr)
{
    pthread_once(&by_nr_once, build_index);
    return nr < SYSCALL_MAX ? by_nr[nr] : NULL;
}

const char *syscall_name(uint64_t nr)
{
    const struct syscall_desc *d = syscall_lookup(nr);
    if (d)
        return d->name;
    static char *names[SYSCALL_MAX];
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    if (nr >= SYSCALL_MAX)
        return NULL;
    pthread_mutex_lock(&lock);
    if (!names[nr])
        names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, (int)nr);
    pthread_mutex_unlock(&lock);
    return names[nr];
}
