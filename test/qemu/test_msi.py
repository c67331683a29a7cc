"""Plain MSI and INTx with QEMU's edu device (drivers/pci_edu.c), on q35 and pc.

`test=msi` (test/kernel/msi_selftest.c) raises interrupts on demand
through edu's raise register and checks in the guest that each arrived
exactly once, with its own status bits, by the path in use: the MSI vector,
then (MSI off) the INTx GSI; that the other path stayed quiet; that with
Bus Master off no message arrives; and that the factorial unit's
completion interrupt brings the right result. This file checks those lines
and the exit status from outside, that the boot listing showed the device
with its MSI capability, that a boot without edu fails test=msi with a
clear message (and otherwise boots cleanly), and that the shell's `irqs`
counts the MSI vector and the INTx line.
"""

import re

import pytest

from qemu import KERNEL, PROMPT, STATUS_FAIL, STATUS_HALT, STATUS_PASS

EDU_ADDR = "00:05.0"
EDU_DEVICE = ["-device", "edu,addr=5"]
RAISES = 8  # EDU_TEST_RAISES in test/kernel/msi_selftest.c


def boot_msi(qemu, machine, devices):
    vm = qemu(machine=machine, kernel=KERNEL, append="test=msi", devices=devices, timeout=60)
    status = vm.wait()
    return status, vm.log


def raises(log, how):
    """(raise number, status) of every passing raise line for `how`."""
    found = re.findall(rf"^ok \d+ - {how}: raise (\d+) \(status (0x[0-9a-f]{{8}})\) taken "
                       rf"once, by the {how} handler: arrived, \d+ record\(s\), last by "
                       rf"{how} with status \2$", log, re.M)
    return [(int(n), int(s, 16)) for n, s in found]


@pytest.mark.parametrize("machine", ["q35", "pc"])
def test_msi_and_intx(qemu, machine):
    status, log = boot_msi(qemu, machine, EDU_DEVICE)
    assert status == STATUS_PASS, f"selftest did not pass (status {status})\n{log[-5000:]}"
    assert not re.search(r"^not ok", log, re.M)
    # The boot listing shows edu and its MSI capability (not yet on).
    assert re.search(rf"^pci: {EDU_ADDR} 1234:11e8 class 00ff00 .* INTA irq \d+ msi$", log,
                     re.M), "edu not listed with msi at boot"
    m = re.search(rf"^edu {EDU_ADDR}: version \d+\.\d+, interrupts by msi \(MSI vector "
                  r"(0x[0-9a-f]{2}), INTx GSI (\d+)\)$", log, re.M)
    assert m, "edu driver did not bind with MSI"
    vector, gsi = m.group(1), m.group(2)

    # Every raise arrived once, by the right path, with its own status bit.
    for how in ("msi", "intx"):
        got = raises(log, how)
        assert [n for n, _ in got] == list(range(1, RAISES + 1)), f"{how} raises: {got}"
        bits = [s for _, s in got]
        assert all(b and not b & (b - 1) for b in bits) and len(set(bits)) == RAISES, bits
        assert re.search(rf"^ok \d+ - {how}: {RAISES} raises, {RAISES} handled, {RAISES} "
                         r"right$", log, re.M)
    assert re.search(rf"^ok \d+ - msi: MSI vector {vector} counted {RAISES} interrupts, "
                     rf"handler {RAISES} ", log, re.M)
    assert re.search(rf"^ok \d+ - msi: INTx \(GSI {gsi}, vector 0x[0-9a-f]+\) not used while "
                     r"MSI is on: 0 interrupts, 0 for edu$", log, re.M)
    assert re.search(rf"^ok \d+ - intx: GSI {gsi} vector 0x[0-9a-f]+ counted {RAISES} "
                     rf"interrupts, edu handler {RAISES}, other devices 0 ", log, re.M)
    assert re.search(rf"^ok \d+ - intx: MSI vector {vector} not used while MSI is off: 0 "
                     r"interrupts$", log, re.M)
    # The capability as programmed, and put back.
    assert re.search(r"^ok \d+ - msi: Message Control 0x[0-9a-f]{4}: enabled, one message",
                     log, re.M)
    assert re.search(r"^ok \d+ - msi: command 0x[0-9a-f]{4}: Bus Master and INTx Disable on$",
                     log, re.M)
    assert re.search(r"^ok \d+ - msi: with Bus Master off no message arrives \(0 handled\)$",
                     log, re.M)
    assert re.search(r"^ok \d+ - msi: pci_msi_disable: Message Control 0x[0-9a-f]{4}, INTx "
                     r"Disable back as it was", log, re.M)
    # The factorial's completion interrupt, by each path.
    assert len(re.findall(r"^ok \d+ - msi: 10! = 3628800 by the factorial-done interrupt ",
                          log, re.M)) == 2
    assert re.search(r"^ok \d+ - intx: 12! = 479001600 by the factorial-done interrupt ", log,
                     re.M)
    m = re.search(r"^# (\d+) checks, 0 failed$", log, re.M)
    assert m and int(m.group(1)) >= 2 * RAISES + 20, "fewer checks ran than expected"
    assert not re.search(r"^(error|warning):", log, re.M), "the boot logged errors"


def test_msi_without_edu(qemu):
    """No edu: the driver does not bind, the boot is clean, and test=msi
    fails saying why instead of passing on nothing."""
    status, log = boot_msi(qemu, "q35", [])
    assert status == STATUS_FAIL, f"expected selftest FAIL (status {status})\n{log[-3000:]}"
    assert re.search(r"^not ok 1 - msi: no edu device bound \(QEMU -device edu, PCI "
                     r"1234:11e8\); test=msi needs one$", log, re.M), log[-3000:]
    assert not re.search(r"^edu ", log, re.M)
    assert not re.search(r"^(error|warning):", log, re.M), "the boot logged errors"


def run(vm, command):
    vm.sendline(command)
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    return out.split("\n", 1)[1] if "\n" in out else ""


def irq_count(out, source, name):
    """The count `irqs` shows for the vector with `source` and handler `name`."""
    m = re.search(rf"^0x[0-9a-f]{{2}}\s+{source}\s+\d+\s+{re.escape(name)}\s+(\d+)\s+0x[0-9a-f]+$",
                  out, re.M)
    assert m, f"irqs lacks {source} {name}\n{out}"
    return int(m.group(1))


def test_shell_edu_irqs(qemu):
    vm = qemu(machine="q35", kernel=KERNEL, append="", devices=EDU_DEVICE, timeout=60)
    vm.expect_exact(PROMPT)

    out = run(vm, "lspci")
    assert re.search(rf"^{EDU_ADDR} 1234:11e8 .* msi\(on\)$", out, re.M), out
    assert re.search(r"^\s+driver edu: v\d+\.\d+, msi$", out, re.M), out

    out = run(vm, "irqs")
    assert irq_count(out, "msi", f"edu {EDU_ADDR} msi") == 0
    assert irq_count(out, r"GSI \d+", f"edu {EDU_ADDR} intx") == 0

    out = run(vm, "edu raise 5")
    assert "edu raise: 5 of 5 interrupts arrived by msi" in out, out
    out = run(vm, "irqs")
    assert irq_count(out, "msi", f"edu {EDU_ADDR} msi") == 5
    assert irq_count(out, r"GSI \d+", f"edu {EDU_ADDR} intx") == 0

    out = run(vm, "edu mode intx")
    assert re.search(rf"^{EDU_ADDR}: edu v\d+\.\d+, intx; ", out, re.M), out
    out = run(vm, "edu raise 3")
    assert "edu raise: 3 of 3 interrupts arrived by intx" in out, out
    out = run(vm, "irqs")
    assert irq_count(out, "msi", f"edu {EDU_ADDR} msi") == 5
    assert irq_count(out, r"GSI \d+", f"edu {EDU_ADDR} intx") == 3

    out = run(vm, "edu mode msi")
    out = run(vm, "edu fact 10")
    assert "10! = 3628800" in out, out
    out = run(vm, "irqs")
    assert irq_count(out, "msi", f"edu {EDU_ADDR} msi") == 6

    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT
