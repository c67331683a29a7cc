"""The interactive serial shell, driven over COM1 as a user would.

Each test boots without `test=`, waits for the prompt, types commands and
checks the answers; `halt` must end QEMU with status 1.
"""

import re
import time

import pytest

from qemu import BOOT_TIMES, KERNEL, PROMPT, STATUS_HALT, guest_boot_ms

SHELL_CMDLINE = 'console=ttyS0 label="two words"'


@pytest.fixture
def shell(qemu):
    """A kernel booted to the shell prompt on q35 (PVH entry)."""
    vm = qemu(machine="q35", kernel=KERNEL, append=SHELL_CMDLINE)
    vm.expect_exact(PROMPT)
    return vm


def run(vm, command):
    """Type `command`, return its output (between the echo and the next prompt)."""
    vm.sendline(command)
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    # The first line is the echo of what was typed.
    return out.split("\n", 1)[1] if "\n" in out else ""


UPTIME = re.compile(r"up (\d+)\.(\d{3}) s, ticks (\d+)")


def uptime(vm):
    """(seconds, ticks) from the `uptime` command."""
    m = UPTIME.search(run(vm, "uptime"))
    assert m, "uptime printed no `up S.mmm s, ticks N`"
    return int(m.group(1)) + int(m.group(2)) / 1000, int(m.group(3))


def test_help_lists_commands_and_options(shell):
    out = run(shell, "help")
    for usage in ("help [options|COMMAND]", "mem", "uptime", "cmdline", "halt"):
        assert re.search(rf"^  {re.escape(usage)}\s", out, re.M), f"help lacks {usage!r}"
    out = run(shell, "help options")
    assert re.search(r"^  test\s+text\s+NAME\[,NAME\.\.\.\]: run self-tests", out, re.M), out
    assert re.search(r"^  virtio_pci\.msix\s+bool, default on\s", out, re.M), out
    assert re.search(r"^  bench\s", out, re.M), out
    out = run(shell, "help uptime")
    assert "usage: uptime" in out


def test_uptime_increases(shell):
    t1, ticks1 = uptime(shell)
    time.sleep(0.5)
    t2, ticks2 = uptime(shell)
    assert t2 > t1, f"uptime went from {t1} to {t2}"
    assert ticks2 > ticks1, f"ticks went from {ticks1} to {ticks2}"


def test_mem_shows_allocator_and_map(shell):
    out = run(shell, "mem")
    m = re.search(r"usable (\d+) KiB, free (\d+) KiB", out)
    assert m, out
    usable, free = int(m.group(1)), int(m.group(2))
    assert 200 * 1024 < usable <= 256 * 1024, f"256 MiB guest reports {usable} KiB usable"
    assert 0 < free < usable
    assert re.search(r"0x[0-9a-f]{16}-0x[0-9a-f]{16} usable", out), out


def test_cmdline_prints_what_was_passed(shell):
    out = run(shell, "cmdline")
    assert out.strip() == SHELL_CMDLINE


def test_unknown_command(shell):
    out = run(shell, "frobnicate now")
    assert "unknown command 'frobnicate' (try help)" in out


def test_line_editing(shell):
    # Backspace (DEL, as a terminal sends it) fixes a typo.
    assert UPTIME.search(run(shell, "uptimX\x7fe")), "backspace did not edit the line"
    # Ctrl-H works too, and Ctrl-U throws the whole line away.
    assert UPTIME.search(run(shell, "uptimeZ\x08"))
    out = run(shell, "garbage words\x15uptime")
    assert "unknown command" not in out and UPTIME.search(out), out
    # An arrow key's escape sequence is swallowed, not taken as text.
    assert UPTIME.search(run(shell, "upt\x1b[Dime"))


def test_overlong_line_is_refused(shell):
    out = run(shell, "x" * 300)
    assert "line longer than 255 characters" in out
    assert "unknown command" not in out
    assert UPTIME.search(run(shell, "uptime")), "the shell still works afterwards"


def test_halt_exits_with_status_1(shell):
    shell.sendline("halt")
    assert shell.wait() == STATUS_HALT


def test_microvm_boot_to_prompt_time(qemu):
    """PVH on microvm: time from kernel entry to the banner, guest side."""
    started = time.monotonic()
    vm = qemu(machine="microvm", kernel=KERNEL, append="")
    vm.expect_exact(PROMPT)
    wall = time.monotonic() - started
    ms = guest_boot_ms(vm.log)
    assert ms is not None, "no `boot: N.NNN ms since entry` in the banner"
    print(f"\nPVH microvm: {ms:.3f} ms guest-side, {wall:.2f} s host wall clock to prompt")
    BOOT_TIMES["pvh-microvm to prompt (guest; host s)"] = f"{ms:9.3f} ms  {wall:6.2f} s"
    assert ms < 2000, f"boot took {ms} ms"
    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT
