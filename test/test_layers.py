"""The layer rule, kept true: every dependency points down the declared order.

docs/ARCHITECTURE.md declares the kernel's floors, lowest first, in its
```floors block: each line a folder (`kernel/irq/`) or a file pattern
(`virtio/virtqueue.[ch]`); a file stands on the floor of the pattern that
matches it, a file pattern before a folder and a longer folder before a
shorter one. This test reads the code and checks, for every source file of
the kernel and of the EFI loader:

  - every `#include "..."` of a file in the tree names a file on the same
    floor or a lower one;
  - every symbol an object file uses (`nm`: calls and data references) is
    defined on the same floor or a lower one, except the names listed in
    CLIMBS, each with the reason it is allowed;
  - no files include or use each other in a circle (a header and its .c
    twin count as one file), on any floor;
  - the Makefile links the kernel's folders bottom up (KDIRS), so init calls
    of a lower layer run first.
A failure names the file and line, the file it reaches, and both floors.
"""

import fnmatch
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "ARCHITECTURE.md")
OBJ = os.path.join(ROOT, "build", "obj")

# The only names a lower floor may take from a higher one. Each is the
# higher layer's side of a contract the lower layer defines.
CLIMBS = {
    # The boot stub enters the kernel once, as a C runtime's start code
    # enters main(): nothing else in arch/ knows the kernel exists.
    ("arch/x86_64/boot/entry.S", "kmain"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def floors():
    """The declared floors, lowest first: a list of (pattern, description)."""
    text = open(DOC).read()
    m = re.search(r"```floors\n(.*?)```", text, re.S)
    assert m, "docs/ARCHITECTURE.md has no ```floors block"
    out = []
    for line in m.group(1).splitlines():
        line = line.split("#", 1)[0].rstrip()
        if line.strip():
            pattern, _, what = line.strip().partition(" ")
            out.append((pattern, what.strip()))
    return out


FLOORS = floors()


def floor_of(path):
    """Index of the floor `path` stands on, or None (not a kernel file)."""
    best, best_key = None, None
    for i, (pattern, _) in enumerate(FLOORS):
        if pattern.endswith("/"):
            if path.startswith(pattern):
                key = (0, len(pattern))
            else:
                continue
        elif fnmatch.fnmatch(path, pattern):
            key = (1, len(pattern))
        else:
            continue
        if best_key is None or key > best_key:
            best, best_key = i, key
    return best


def tracked_sources():
    out = subprocess.run(["git", "ls-files", "*.c", "*.h", "*.S"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [f for f in out if floor_of(f) is not None]


def describe(i):
    return f"floor {i + 1} ({FLOORS[i][0]})"


def unit(path):
    """A header and its .c twin are one file for circles."""
    if path.endswith(".h") and os.path.exists(os.path.join(ROOT, path[:-2] + ".c")):
        return path[:-2] + ".c"
    return path


def includes(path):
    """(line number, included tree path) for each project include."""
    src = open(os.path.join(ROOT, path)).read()
    for m in INCLUDE.finditer(src):
        target = m.group(1)
        if os.path.exists(os.path.join(ROOT, target)):
            yield src.count("\n", 0, m.start()) + 1, target


def symbols():
    """Per kernel object's source: (defined names, used names), from nm."""
    table = {}
    for src in tracked_sources():
        if src.endswith(".h") or src.startswith("arch/x86_64/boot/efi/"):
            continue
        obj = os.path.join(OBJ, src + ".o")
        assert os.path.exists(obj), f"{obj} missing: run `make` first"
        out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True,
                             check=True).stdout
        defined, used = set(), set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            name, kind = parts[0], parts[1]
            if kind == "U":
                used.add(name)
            elif kind.isupper():
                defined.add(name)
        table[src] = (defined, used)
    return table


def edges():
    """Every dependency: (from file, to file, what, where) for includes and
    symbol uses between different files."""
    out = []
    for src in tracked_sources():
        for line, target in includes(src):
            if target != src:
                out.append((src, target, f'#include "{target}"', f"{src}:{line}"))
    table = symbols()
    owner = {}
    for src, (defined, _) in table.items():
        for name in defined:
            owner.setdefault(name, src)
    for src, (_, used) in table.items():
        for name in sorted(used):
            dst = owner.get(name)
            if dst and dst != src:
                out.append((src, dst, name, src))
    return out


def test_floors_are_declared_and_name_real_places():
    assert len(FLOORS) >= 10, "the floors block lists too few floors"
    for pattern, what in FLOORS:
        assert what, f"floor {pattern} has no description"
        if pattern.endswith("/"):
            assert os.path.isdir(os.path.join(ROOT, pattern)), f"floor {pattern}: no such folder"
        else:
            files = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True,
                                   text=True, check=True).stdout.split()
            assert files, f"floor {pattern}: matches no tracked file"


def test_every_kernel_source_stands_on_a_floor():
    out = subprocess.run(["git", "ls-files", "arch", "kernel", "virtio", "drivers", "net",
                          "test/kernel"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    lost = [f for f in out if f.endswith((".c", ".h", ".S")) and floor_of(f) is None]
    assert not lost, "files on no declared floor (docs/ARCHITECTURE.md):\n" + "\n".join(lost)


def test_no_include_or_symbol_climbs_the_floors():
    climbs = []
    for src, dst, what, where in edges():
        fs, fd = floor_of(src), floor_of(dst)
        if fd is None or fd <= fs or (src, what) in CLIMBS:
            continue
        climbs.append(f"{where}: {what} -> {dst}: {describe(fs)} reaches up to {describe(fd)}")
    assert not climbs, "dependencies that point up the layer order:\n" + "\n".join(climbs)


def test_sanctioned_climbs_are_still_needed():
    """A CLIMBS entry nobody uses any more is a stale exception."""
    seen = {(src, what) for src, dst, what, _ in edges()}
    stale = [f"{src}: {name}" for src, name in CLIMBS if (src, name) not in seen]
    assert not stale, "CLIMBS lists uses that no longer exist:\n" + "\n".join(stale)


def strongly_connected(graph):
    """Tarjan's algorithm; the groups of two or more nodes."""
    sys.setrecursionlimit(10000)
    index, low, stack, on, groups, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in list(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_files_depend_on_each_other_in_a_circle():
    graph, why = {}, {}
    for src, dst, what, where in edges():
        a, b = unit(src), unit(dst)
        if a != b:
            graph.setdefault(a, set()).add(b)
            why.setdefault((a, b), f"{where}: {what}")
    circles = strongly_connected(graph)
    report = []
    for group in circles:
        report.append("circle: " + " ".join(group))
        for a in group:
            for b in sorted(graph.get(a, ())):
                if b in group:
                    report.append(f"  {a} -> {b} ({why[(a, b)]})")
    assert not circles, "\n".join(report)


def test_makefile_links_the_layers_bottom_up():
    kdirs = subprocess.run(["make", "-s", "--no-print-directory", "print-kdirs"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    lowest = []
    for d in kdirs:
        here = [floor_of(f) for f in tracked_sources()
                if os.path.dirname(f) == d and f.endswith((".c", ".S"))]
        assert here, f"KDIRS names {d}, which holds no kernel source"
        lowest.append((min(here), d))
    order = [d for _, d in sorted(lowest, key=lambda x: x[0])]
    assert kdirs == order, f"KDIRS should list the folders bottom up: {' '.join(order)}"
    dirs = {os.path.dirname(f) for f in tracked_sources()
            if f.endswith((".c", ".S")) and not f.startswith("arch/x86_64/boot/efi/")}
    missing = sorted(dirs - set(kdirs))
    assert not missing, "folders with kernel sources that KDIRS does not build: " + " ".join(missing)
