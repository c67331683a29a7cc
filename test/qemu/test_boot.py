"""Boot the kernel every supported way and run the in-kernel self-tests.

Each boot path passes `test=boot,newlib,timer,irq` and an odd extra option (quotes,
spaces, shell and GRUB metacharacters); the kernel must print the command
line exactly as the loader passed it (`cmdline: ...`), report the extra
option as unknown with the same words on every path, pass every check and
exit QEMU with the PASS status.

QEMU's -append passes the text unchanged. GRUB re-joins its script words
with its own quoting (`"word with spaces"`), so on the ISO paths the
expected text is what GRUB makes of it (qemu.grub_delivered_cmdline), and
the parsed words must still be the same.
"""

import os
import re
import time

import pytest

from qemu import (BOOT_TIMES, BUILD, KERNEL, PROMPT, STATUS_FAIL, STATUS_HALT, STATUS_PANIC,
                  STATUS_PASS, grub_delivered_cmdline, guest_boot_ms, make_iso)

# Unknown to the kernel (reported, ignored); the quotes group a value with
# spaces for the kernel's parser; the rest would mean something to a shell
# or to GRUB's script parser if the harness quoted it wrongly.
ODD_OPTION = 'odd.opt="a b,c=d; $x & {y} #z | 100%"'
ODD_PARSED = "odd.opt=a b,c=d; $x & {y} #z | 100%"
CMDLINE = "test=boot,newlib,timer,irq " + ODD_OPTION

BOOT_PATHS = {
    # name: (how to build the Qemu, hard timeout in seconds)
    "iso-q35-seabios": dict(machine="q35", iso=True, timeout=60),
    "iso-q35-ovmf": dict(machine="q35", iso=True, ovmf=True, timeout=90),
    "pvh-microvm": dict(machine="microvm", timeout=30),
    "pvh-q35": dict(machine="q35", timeout=30),
    "pvh-pc": dict(machine="pc", timeout=30),
}


def boot(qemu, path, cmdline):
    """Start QEMU on one of BOOT_PATHS with `cmdline`."""
    opts = dict(BOOT_PATHS[path])
    if opts.pop("iso", False):
        return qemu(iso=make_iso(cmdline), **opts)
    return qemu(kernel=KERNEL, append=cmdline, **opts)


def selftest_lines(log):
    """The `ok N - ...` / `not ok N - ...` lines of a self-test run."""
    return re.findall(r"^((?:not )?ok \d+ - .*)$", log, re.M)


@pytest.mark.parametrize("path", list(BOOT_PATHS))
def test_boot_path(qemu, path):
    started = time.monotonic()
    vm = boot(qemu, path, CMDLINE)
    vm.expect(r"boot: \d+\.\d+ ms since entry")
    wall = time.monotonic() - started
    status, log = vm.run_to_exit()

    lines = selftest_lines(log)
    failed = [line for line in lines if line.startswith("not ok")]
    assert not failed, "failed checks:\n" + "\n".join(failed)
    assert len(lines) >= 30, f"expected the boot and newlib checks, saw {len(lines)}"
    assert "selftest: PASS" in log
    assert status == STATUS_PASS, f"QEMU exit status {status}, expected {STATUS_PASS}"

    # The `boot` self-test prints the command line it received verbatim;
    # the parser's own messages share the prefix.
    got = [text for text in re.findall(r"^cmdline: (.*)$", log, re.M)
           if not text.startswith("unknown option ")]
    assert len(got) == 1, f"expected one `cmdline: <text>` line, got {got}"
    expected = grub_delivered_cmdline(CMDLINE) if path.startswith("iso") else CMDLINE
    assert got[0] == expected, "command line changed on the way in"
    assert f"cmdline: unknown option '{ODD_PARSED}' (ignored)" in log

    ms = guest_boot_ms(log)
    BOOT_TIMES[f"{path} (guest ms; host s to banner)"] = f"{ms:9.3f} ms  {wall:6.2f} s"


def test_fault_dumps_and_exits_with_panic_status(qemu):
    vm = qemu(machine="q35", kernel=KERNEL, append="test=fault")
    status, log = vm.run_to_exit()
    assert "fault: executing ud2" in log
    assert re.search(r"EXCEPTION 6 \(#UD invalid opcode\)", log), "no #UD dump"
    for reg in ("RIP", "RSP", "CR2", "RAX", "RBX", "R15"):
        assert re.search(rf"\b{reg}\s+[0-9a-f]{{16}}", log), f"dump lacks {reg}"
    assert "execution continued after ud2" not in log
    assert "selftest: PASS" not in log
    assert status == STATUS_PANIC, f"QEMU exit status {status}, expected {STATUS_PANIC}"


def test_unknown_selftest_fails(qemu):
    vm = qemu(machine="microvm", kernel=KERNEL, append="test=newlib,no_such_test")
    status, log = vm.run_to_exit()
    assert re.search(r"^not ok \d+ - unknown self-test 'no_such_test'", log, re.M)
    assert "selftest: FAIL" in log
    assert status == STATUS_FAIL, f"QEMU exit status {status}, expected {STATUS_FAIL}"


def test_unknown_options_reported(qemu):
    vm = qemu(machine="microvm", kernel=KERNEL,
              append='bogus_flag test=newlib typo.key="x y" bench')
    status, log = vm.run_to_exit()
    assert "cmdline: unknown option 'bogus_flag' (ignored)" in log
    assert "cmdline: unknown option 'typo.key=x y' (ignored)" in log
    assert "unknown option 'test" not in log and "unknown option 'bench" not in log
    assert status == STATUS_PASS


def test_default_iso_boots_to_a_shell_with_an_empty_command_line(qemu):
    """build/virtio-os.iso exactly as `make` builds it (CMDLINE empty): what a
    newcomer boots first. GRUB must pass no placeholder text, so the kernel
    reports no unknown option and reaches the shell."""
    vm = qemu(machine="q35", iso=os.path.join(BUILD, "virtio-os.iso"), timeout=60)
    vm.expect_exact(PROMPT)
    vm.sendline("halt")
    status, log = vm.run_to_exit()
    assert "@CMDLINE@" not in log
    assert "unknown option" not in log, "the default ISO passed a stray word"
    assert status == STATUS_HALT, f"QEMU exit status {status}, expected {STATUS_HALT} (halt)"
