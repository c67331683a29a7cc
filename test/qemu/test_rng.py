"""virtio-rng over every virtio-pci flavour, on q35 and i440fx (pc).

One PVH boot per configuration runs `test=pci,rng`: the self-tests check
the enumeration count, read twice from every rng device and check that the
bytes came by interrupt and differ. This file then checks from outside that
the device sat at the address it was given, which interface and interrupt
mode were picked, and which features were negotiated.
"""

import re

import pytest

from qemu import KERNEL, STATUS_PASS

# Functions QEMU gives each machine without extra devices (host bridge,
# VGA, default NIC, and the chipset functions), plus our rng.
BASE_FUNCTIONS = {"q35": 6, "pc": 6}
RNG_ADDR = "00:08.0"

# name: (device options, extra command line, PCI device id, interface, irq mode)
VARIANTS = {
    "transitional": ("", "", "1005", "modern", "msix"),
    "legacy": (",disable-modern=on", "", "1005", "legacy", "msix"),
    "modern": (",disable-legacy=on", "", "1044", "modern", "msix"),
    "modern-intx": (",disable-legacy=on,vectors=0", "", "1044", "modern", "intx"),
}
# Command-line switches and the legacy INTx path: once, on q35.
EXTRA_VARIANTS = {
    "force-legacy": ("", "virtio_pci.force_legacy=1", "1005", "legacy", "msix"),
    "msix-off": ("", "virtio_pci.msix=0", "1005", "modern", "intx"),
    "legacy-intx": (",disable-modern=on,vectors=0", "", "1005", "legacy", "intx"),
    # One table entry: no vector per queue, so one shared vector.
    "msix-shared": (",vectors=1", "", "1005", "modern", "msix-shared"),
    "legacy-msix-shared": (",disable-modern=on,vectors=1", "", "1005", "legacy", "msix-shared"),
}

VERSION_1 = 1 << 32


def boot_rng(qemu, machine, opts, extra):
    append = f"test=pci,rng pci.expect={BASE_FUNCTIONS[machine] + 1} {extra}".strip()
    vm = qemu(machine=machine, kernel=KERNEL, append=append,
              devices=["-device", f"virtio-rng-pci,addr=8{opts}"], timeout=60)
    status = vm.wait()
    return status, vm.log


def check_boot(status, log, devid, interface, irq):
    assert status == STATUS_PASS, f"selftest did not pass (status {status})\n{log[-4000:]}"
    assert re.search(rf"^pci: {RNG_ADDR} 1af4:{devid} class 00ff00", log, re.M), \
        f"rng not listed at {RNG_ADDR} as 1af4:{devid}"
    assert f"virtio-pci {RNG_ADDR}: rng device (type 4), {interface} interface" in log
    m = re.search(r"^virtio(\d+): virtio-rng driver bound \(pci-(\w+) ([\w-]+), "
                  r"features (0x[0-9a-f]+)\)", log, re.M)
    assert m, "virtio-rng driver did not bind"
    assert m.group(2) == interface and m.group(3) == irq, \
        f"expected {interface} {irq}, got {m.group(2)} {m.group(3)}"
    features = int(m.group(4), 16)
    if interface == "modern":
        assert features & VERSION_1, f"modern without VIRTIO_F_VERSION_1: {features:#x}"
    else:
        assert features < (1 << 32), f"legacy with features above bit 31: {features:#x}"
    m = re.search(r"queue interrupts (\d+) -> (\d+)", log)
    assert m and int(m.group(2)) > int(m.group(1)), "no rng queue interrupt counted"
    reads = re.findall(r"^rng: read \d ([0-9a-f]{64})$", log, re.M)
    assert len(reads) == 2 and reads[0] != reads[1], f"rng reads: {reads}"
    assert not re.search(r"^(error|warning):", log, re.M), "the boot logged errors"


@pytest.mark.parametrize("machine", ["q35", "pc"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_rng_variant(qemu, machine, variant):
    opts, extra, devid, interface, irq = VARIANTS[variant]
    status, log = boot_rng(qemu, machine, opts, extra)
    check_boot(status, log, devid, interface, irq)


@pytest.mark.parametrize("variant", list(EXTRA_VARIANTS))
def test_rng_switches(qemu, variant):
    opts, extra, devid, interface, irq = EXTRA_VARIANTS[variant]
    status, log = boot_rng(qemu, "q35", opts, extra)
    check_boot(status, log, devid, interface, irq)
