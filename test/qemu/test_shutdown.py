"""Leaving the machine (arch/x86_64/machine.c): isa-debug-exit, ACPI S5, halt.

Without `-device isa-debug-exit` the only way the guest can end QEMU is ACPI
S5 power-off (kernel/acpi/acpi_poweroff.c): the shell's `halt` must make the QEMU
process exit on its own, with status 0, within a few seconds. That is
checked from outside on each machine type (PM1a_CNT on pc and q35, the
hardware-reduced sleep control register on microvm) and through GRUB under
SeaBIOS. With isa-debug-exit present the device still wins (status 1).
Where S5 is not available (microvm with acpi=off) or not wanted (a panic),
the kernel says so and halts: QEMU keeps running.
"""

import time

import pytest

from qemu import KERNEL, PROMPT, STATUS_HALT, make_iso

# What machine_exit() prints just before the S5 write.
POWERING_OFF = "acpi: powering off (S5)"

# Seconds QEMU may take to exit after `halt` (it takes ~0.1 s under TCG).
EXIT_WITHIN = 5

# The boot line of kernel/acpi/acpi_poweroff.c for each machine's tables.
S5_BOOT_LINE = {
    "pc": r"acpi: S5 power-off via PM1a_CNT \(I/O port 0x604\), SLP_TYPa 0; ACPI mode",
    "q35": r"acpi: S5 power-off via PM1a_CNT \(I/O port 0x604, X_ field\), SLP_TYPa 0; ACPI mode",
    "microvm": r"acpi: S5 power-off via SLEEP_CONTROL_REG \(memory 0xfea00200\), SLP_TYP 5[\r\n]",
}


def halt_and_time_exit(vm):
    """Type `halt` and return (QEMU's exit status, seconds until it exited)."""
    vm.sendline("halt")
    vm.expect_exact(POWERING_OFF)
    started = time.monotonic()
    status = vm.wait(timeout=EXIT_WITHIN)
    return status, time.monotonic() - started


@pytest.mark.parametrize("machine", ["pc", "q35", "microvm"])
def test_halt_powers_off_without_debug_exit(qemu, machine):
    vm = qemu(machine=machine, kernel=KERNEL, append="", debug_exit=False)
    vm.expect(S5_BOOT_LINE[machine])
    vm.expect_exact(PROMPT)
    status, seconds = halt_and_time_exit(vm)
    print(f"\n{machine}: QEMU exited with status {status} {seconds:.2f} s after the S5 write")
    assert status == 0, f"QEMU exit status {status}, expected 0 (ACPI power-off)"
    assert "machine halted" not in vm.log
    assert "still runs" not in vm.log and "warning: acpi" not in vm.log, vm.log


def test_iso_seabios_halt_powers_off(qemu):
    """GRUB (multiboot2) under SeaBIOS on q35: the firmware's tables, not
    QEMU's -kernel path, and still no isa-debug-exit."""
    vm = qemu(machine="q35", iso=make_iso(""), debug_exit=False, timeout=60)
    vm.expect(S5_BOOT_LINE["q35"])
    vm.expect_exact(PROMPT)
    status, _ = halt_and_time_exit(vm)
    assert status == 0, f"QEMU exit status {status}, expected 0 (ACPI power-off)"


@pytest.mark.parametrize("machine", ["pc", "microvm"])
def test_debug_exit_still_wins(qemu, machine):
    """With isa-debug-exit present QEMU ends with the kernel's status before
    S5 is tried."""
    vm = qemu(machine=machine, kernel=KERNEL, append="")
    vm.expect(S5_BOOT_LINE[machine])
    vm.expect_exact(PROMPT)
    vm.sendline("halt")
    assert vm.wait(timeout=EXIT_WITHIN) == STATUS_HALT
    assert POWERING_OFF not in vm.log


def assert_still_running(vm, seconds=1.5):
    """QEMU did not exit on its own (the guest halted)."""
    time.sleep(seconds)
    assert vm.child.isalive(), f"QEMU exited (status {vm.wait()}), expected a halted guest"


def test_no_acpi_halts_and_says_why(qemu):
    vm = qemu(machine="microvm,acpi=off", kernel=KERNEL, append="", debug_exit=False)
    vm.expect_exact("acpi: S5 power-off not available: no ACPI tables")
    vm.expect_exact(PROMPT)
    vm.sendline("halt")
    vm.expect_exact("machine halted (exit code 0x0)")
    assert_still_running(vm)
    assert POWERING_OFF not in vm.log


def test_panic_halts_instead_of_powering_off(qemu):
    """A panic leaves the machine halted with its message, even though S5
    is available: a vanished VM would hide the error."""
    vm = qemu(machine="microvm", kernel=KERNEL, append="test=fault", debug_exit=False)
    vm.expect(S5_BOOT_LINE["microvm"])
    vm.expect(r"EXCEPTION 6 \(#UD invalid opcode\)")
    vm.expect_exact("machine halted (exit code 0x12)")
    assert_still_running(vm)
    assert POWERING_OFF not in vm.log
