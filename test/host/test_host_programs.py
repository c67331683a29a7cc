"""Run every host unit-test program (build/host/test_*, and the
ThreadSanitizer builds in build/host-tsan/): one pytest result per program,
failing when any of its `ok` / `not ok` lines says `not ok`.

The programs are built by `make` (test/host/host.mk) before pytest runs. A
program that crashes, or exits non-zero, fails even if every line it printed
said `ok` (a sanitizer report ends the program with an error status)."""

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_BUILD = os.path.join(ROOT, "build", "host")
TSAN_BUILD = os.path.join(ROOT, "build", "host-tsan")


def programs(folder):
    return sorted(
        name for name in (os.listdir(folder) if os.path.isdir(folder) else [])
        if name.startswith("test_") and os.access(os.path.join(folder, name), os.X_OK))


def tsan_tests_in_host_mk():
    """The HOST_TSAN_TESTS list of test/host/host.mk."""
    with open(os.path.join(os.path.dirname(__file__), "host.mk"), encoding="utf-8") as f:
        m = re.search(r"^HOST_TSAN_TESTS\s*:=\s*(.*)$", f.read(), re.M)
    return sorted(m.group(1).split()) if m else []


PROGRAMS = programs(HOST_BUILD)
TSAN_PROGRAMS = programs(TSAN_BUILD)
SOURCES = sorted(f[:-2] for f in os.listdir(os.path.dirname(__file__))
                 if f.startswith("test_") and f.endswith(".c"))
LINE = re.compile(r"^(ok|not ok) (\d+) - (.*)$")
_results = {}


def run_program(name, folder=HOST_BUILD):
    """Run a host test program once and cache (exit status, output)."""
    key = os.path.join(folder, name)
    if key not in _results:
        proc = subprocess.run([key], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=600, text=True)
        _results[key] = (proc.returncode, proc.stdout)
    return _results[key]


def test_every_host_test_source_was_built():
    """A test source without a program means the build silently skipped it."""
    assert SOURCES, "no host test sources found"
    assert sorted(PROGRAMS) == SOURCES, "run `make` first: programs missing"


def test_every_tsan_program_was_built():
    assert TSAN_PROGRAMS == tsan_tests_in_host_mk(), "run `make` first: TSan programs missing"


def check_program(name, folder):
    status, out = run_program(name, folder)
    lines = [m for m in map(LINE.match, out.splitlines()) if m]
    assert lines, f"{name} printed no checks:\n{out[-4000:]}"
    failed = [m.group(0) for m in lines if m.group(1) == "not ok"]
    assert not failed, f"{name}: failed checks:\n" + "\n".join(failed) + "\n" + out[-4000:]
    assert status == 0, f"{name} exited with {status}:\n{out[-4000:]}"


@pytest.mark.parametrize("name", PROGRAMS)
def test_host_program(name):
    check_program(name, HOST_BUILD)


@pytest.mark.parametrize("name", TSAN_PROGRAMS)
def test_host_program_under_tsan(name):
    """TSan reports a race on stderr and exits with status 66."""
    check_program(name, TSAN_BUILD)
