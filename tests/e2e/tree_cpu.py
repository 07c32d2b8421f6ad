"""tree_cpu_ns(root): the CPU time, in ns (from /proc's schedstat), of
every thread of process root and of every process under it. Shared by
tests/e2e/host_reactor.sh and bench/run.sh (on their PYTHONPATH)."""
import os


def tree_cpu_ns(root):
    kids = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                s = open('/proc/%s/stat' % d).read()
            except OSError:
                continue
            kids.setdefault(int(s[s.rindex(')') + 2:].split()[1]), []).append(int(d))
    ns, todo = 0, [root]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            tids = os.listdir('/proc/%d/task' % p)
        except OSError:
            continue
        for t in tids:
            try:
                ns += int(open('/proc/%d/task/%s/schedstat' % (p, t)).read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return ns
