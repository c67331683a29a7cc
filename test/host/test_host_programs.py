"""Run every host unit-test program (build/host/test_*): one pytest result
per program, failing when any of its `ok` / `not ok` lines says `not ok`.

The programs are built by `make` (test/host/host.mk) before pytest runs. A
program that crashes, or exits non-zero, fails even if every line it printed
said `ok` (a sanitizer report ends the program with an error status)."""

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST_BUILD = os.path.join(ROOT, "build", "host")
PROGRAMS = sorted(
    name for name in (os.listdir(HOST_BUILD) if os.path.isdir(HOST_BUILD) else [])
    if name.startswith("test_") and os.access(os.path.join(HOST_BUILD, name), os.X_OK)
)
SOURCES = sorted(f[:-2] for f in os.listdir(os.path.dirname(__file__))
                 if f.startswith("test_") and f.endswith(".c"))
LINE = re.compile(r"^(ok|not ok) (\d+) - (.*)$")
_results = {}


def run_program(name):
    """Run a host test program once and cache (exit status, output)."""
    if name not in _results:
        proc = subprocess.run([os.path.join(HOST_BUILD, name)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=600, text=True)
        _results[name] = (proc.returncode, proc.stdout)
    return _results[name]


def test_every_host_test_source_was_built():
    """A test source without a program means the build silently skipped it."""
    assert SOURCES, "no host test sources found"
    assert sorted(PROGRAMS) == SOURCES, "run `make` first: programs missing"


@pytest.mark.parametrize("name", PROGRAMS)
def test_host_program(name):
    status, out = run_program(name)
    lines = [m for m in map(LINE.match, out.splitlines()) if m]
    assert lines, f"{name} printed no checks:\n{out[-4000:]}"
    failed = [m.group(0) for m in lines if m.group(1) == "not ok"]
    assert not failed, f"{name}: failed checks:\n" + "\n".join(failed) + "\n" + out[-4000:]
    assert status == 0, f"{name} exited with {status}:\n{out[-4000:]}"
