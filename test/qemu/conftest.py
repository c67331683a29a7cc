"""pytest fixtures for the QEMU tests.

`qemu` is a factory: `qemu(machine=..., kernel=... or iso=..., ...)` returns a
started `Qemu` (test/qemu/qemu.py). Every instance a test created is killed
by PID when the test ends, and the console log of each is attached to the
report of a failing test, so a failure always shows what the guest said.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import qemu as qemu_mod  # noqa: E402


@pytest.fixture
def qemu(request, tmp_path):
    """Factory for started QEMU instances, all killed at the end of the test."""
    instances = []
    request.node.qemu_instances = instances

    def start(**kwargs):
        assert os.path.exists(qemu_mod.KERNEL), "build/kernel.elf missing: run `make` first"
        kwargs.setdefault("tmpdir", str(tmp_path))
        kwargs.setdefault("name", request.node.name)
        vm = qemu_mod.Qemu(**kwargs)
        instances.append(vm)
        return vm.start()

    yield start
    for vm in instances:
        vm.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach each QEMU console log to the report of a failed test."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for i, vm in enumerate(getattr(item, "qemu_instances", [])):
            report.sections.append((f"QEMU console {i} ({vm.name})", vm.log))


def pytest_terminal_summary(terminalreporter):
    """Print the guest-side boot times the tests measured."""
    if not qemu_mod.BOOT_TIMES:
        return
    terminalreporter.write_sep("-", "boot times: guest (kernel entry to banner), host wall clock")
    for label, value in sorted(qemu_mod.BOOT_TIMES.items()):
        terminalreporter.write_line(f"{label:52s} {value}")
