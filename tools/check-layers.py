#!/usr/bin/env python3
"""check-layers.py: the sentry's layers hold.

Usage: tools/check-layers.py BUILD_DIR [--report]

Reads which object of the sentry uses which other one (nm on the objects
listed in BUILD_DIR/compile_commands.json: a name one object leaves
undefined and another defines is an arrow from the first to the second)
and which headers each source includes, then checks:

  1. every arrow runs down the LAYERS below (or stays in one layer);
  2. no circle of arrows among the source files of src/fs and src/sentry
     (nor anywhere else but inside the platform, whose two halves register
     with their common part);
  3. only the files in PLATFORM_USERS include a platform header or call the
     platform, and no header under include/ but the platform's own includes
     one;
  4. every header under include/ compiles alone.

With --report it prints the arrows and layers as well. Exit status 0 when
all holds, 1 otherwise (each breach on its own line).
"""
import json
import os
import re
import subprocess
import sys

# Top to bottom, one layer a line: "name: prefix..." (a long one goes on
# in indented lines). A file belongs to the first entry whose prefix it
# starts with. Calls go to the same or a lower layer.
LAYER_TABLE = """
main: src/sentry/main.c
sandbox start-up: src/sentry/sandbox.c
task loop: src/sentry/task.c
syscall dispatch: src/sentry/syscall.c
strace: src/sentry/strace.c
syscall table: src/sentry/systab.c
syscalls: src/sentry/sys_ src/fs/sys_ src/net/sys_
processes, exec, mount setup: src/sentry/process.c src/sentry/fork.c src/sentry/exit.c
    src/sentry/signal.c src/sentry/ptimer.c src/sentry/signalfd.c src/sentry/sigframe.c
    src/sentry/tty.c src/sentry/pidfd.c src/loader/ src/fs/setup.c src/fs/pathop.c src/ipc/
futexes and timeouts: src/sentry/futex.c src/sentry/ktime.c
vfs operations: src/fs/vfs/namei.c
file systems: src/fs/hostfs/ src/fs/tmpfs/ src/fs/devfs/ src/fs/procfs/
process objects and pid table: src/sentry/pid.c
sockets: src/net/
memory: src/sentry/mm.c src/sentry/mm_host.c src/sentry/vma.c
files, fd table, pipes, locks, poll, devices: src/fs/file/
file change notification: src/fs/vfs/fsnotify.c
vfs objects and walk: src/fs/vfs/vfs.c
guest memory access: src/sentry/copy.c
credentials: src/sentry/creds.c
wait queues: src/sched/
platform: src/platform/
spin budget: src/base/
"""


def parse_layers(table):
    layers = []
    for line in table.strip().splitlines():
        if line.startswith(" "):
            layers[-1][1].extend(line.split())
        else:
            name, _, prefixes = line.partition(": ")
            layers.append((name, prefixes.split()))
    return layers


LAYERS = parse_layers(LAYER_TABLE)

# Who may see the platform (include its headers or call it).
PLATFORM_USERS = ["src/sentry/sandbox.c", "src/sentry/task.c", "src/sentry/mm.c", "src/sentry/mm_host.c",
                  "src/sentry/vma.c", "src/sentry/copy.c", "src/platform/"]


def layer_of(path):
    for n, (_, prefixes) in enumerate(LAYERS):
        if any(path.startswith(p) for p in prefixes):
            return n
    return None


def nm_symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) >= 3}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True).stdout
    undefined = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, undefined


def sccs(nodes, edges):
    """Tarjan's strongly connected components with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = sys.argv[1]
    report = "--report" in sys.argv[2:]
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(build, "compile_commands.json")) as fh:
        cmds = json.load(fh)

    objs = {}
    for c in cmds:
        f = os.path.relpath(os.path.normpath(os.path.join(c["directory"], c["file"])), src)
        if not f.startswith("src/") or f.startswith("src/platform/stub/"):
            continue
        objs[f] = os.path.join(c["directory"], c["output"])

    defs, uses = {}, {}
    for f, o in objs.items():
        d, u = nm_symbols(o)
        uses[f] = u
        for s in d:
            defs.setdefault(s, f)

    arrows = {}
    names = {}
    for f, u in uses.items():
        for s in u:
            g = defs.get(s)
            if g and g != f:
                arrows.setdefault(f, set()).add(g)
                names.setdefault((f, g), set()).add(s)

    bad = []
    for f in sorted(objs):
        if layer_of(f) is None:
            bad.append("no layer for %s: add it to LAYERS in tools/check-layers.py" % f)

    # 1. Arrows run down.
    for f, gs in sorted(arrows.items()):
        for g in sorted(gs):
            lf, lg = layer_of(f), layer_of(g)
            if lf is None or lg is None:
                continue
            if lg < lf:
                bad.append("upward: %s (%s) -> %s (%s): %s" % (
                    f, LAYERS[lf][0], g, LAYERS[lg][0], ", ".join(sorted(names[(f, g)])[:6])))

    # 2. No circles among files, nor among folders.
    for comp in sccs(objs.keys(), arrows):
        if all(f.startswith("src/platform/") for f in comp):
            continue
        bad.append("circle of files: " + " ".join(comp))

    # 3. The platform is seen by its users alone.
    inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for f in sorted(objs):
        text = open(os.path.join(src, f)).read()
        if not f.startswith(tuple(PLATFORM_USERS)):
            for h in inc_re.findall(text):
                if h.startswith("platform/"):
                    bad.append("platform header in %s: %s" % (f, h))
            for g in arrows.get(f, ()):
                if g.startswith("src/platform/"):
                    bad.append("platform call in %s: %s" % (f, ", ".join(sorted(names[(f, g)])[:6])))
    headers = []
    for root, _, files in os.walk(os.path.join(src, "include")):
        for h in files:
            if h.endswith(".h"):
                headers.append(os.path.relpath(os.path.join(root, h), os.path.join(src, "include")))
    for h in sorted(headers):
        if h.startswith("platform/"):
            continue
        text = open(os.path.join(src, "include", h)).read()
        for i in inc_re.findall(text):
            if i.startswith("platform/"):
                bad.append("header include/%s includes the platform's %s" % (h, i))

    # 4. Headers compile alone.
    cc = os.environ.get("CC", "cc")
    for h in sorted(headers):
        r = subprocess.run([cc, "-std=c17", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                            "-fsyntax-only", "-I", os.path.join(src, "include"), "-x", "c", "-"],
                           input='#include "%s"\n' % h, capture_output=True, text=True)
        if r.returncode != 0:
            bad.append("header include/%s does not compile alone: %s" % (
                h, (r.stderr.strip().splitlines() or ["?"])[0]))

    if report:
        for n, (name, _) in enumerate(LAYERS):
            print("layer %2d %-26s %s" % (len(LAYERS) - n, name,
                                          " ".join(sorted(f for f in objs if layer_of(f) == n))))
        for f, gs in sorted(arrows.items()):
            for g in sorted(gs):
                print("%s -> %s: %s" % (f, g, ", ".join(sorted(names[(f, g)])[:8])))
    for b in bad:
        print(b)
    print("%d files, %d arrows, %d breaches" % (len(objs), sum(len(g) for g in arrows.values()),
                                               len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
