"""virtio-mmio on QEMU microvm (virtio 1.2 section 4.2), PVH `-kernel` boot.

For each way microvm describes its transports -- ACPI DSDT (default),
command line (acpi=off), ACPI with the transports on the first IOAPIC
(ioapic2=off) -- and each register layout -- version 1 (QEMU's default) and
version 2 (force-legacy=false) -- one boot with a virtio-rng and a
virtio-blk device runs `test=mmio,rng,blk` and checks from outside:
  - the boot listing puts each device at the address and GSI QEMU wired it
    to (devices fill the slots from the top down), with the trigger mode
    from ACPI (level) or the command-line default (edge), and the version;
  - rng bytes arrive by interrupt (test=rng), over that transport;
  - the blk self-test's CRC-32 of the disk before and after its writes
    match the image file on the host (data integrity end to end).
Then: malformed `virtio_mmio.device=` entries are each reported once and
skipped while the good ones work; a transport described both by ACPI and
by hand on the command line is registered once; the shell lists the
transports.
"""

import os
import re
import zlib

import pytest

from qemu import KERNEL, PROMPT, STATUS_HALT, STATUS_PASS

SLOT0 = 0xfeb00000
SLOT_SIZE = 0x200
DISK_BYTES = 2 * 1024 * 1024

# machine option -> (slot count, first GSI, trigger, source)
LAYOUTS = {
    "microvm": (24, 24, "level-high", "acpi"),
    "microvm,acpi=off": (8, 5, "edge-high", "cmdline"),
    "microvm,ioapic2=off": (8, 16, "level-high", "acpi"),
}

LISTING = re.compile(
    r"^virtio-mmio: mmio(\d+): base (0x[0-9a-f]+) size (0x[0-9a-f]+) gsi (\d+) (\S+) "
    r"(v\d) (?:device (\d+) \((\w+)\) virtio(\d+)|empty) from (\S+)", re.M)


def listing(log):
    """{base: dict} from the boot-time transport listing."""
    out = {}
    for m in LISTING.finditer(log.replace("\r", "")):
        base = int(m.group(2), 16)
        assert base not in out, f"transport {m.group(2)} listed twice"
        out[base] = {"size": int(m.group(3), 16), "gsi": int(m.group(4)),
                     "trigger": m.group(5), "version": m.group(6),
                     "device": int(m.group(7)) if m.group(7) else 0,
                     "name": m.group(8), "from": m.group(10)}
    return out


def make_disk(path):
    data = os.urandom(DISK_BYTES)
    with open(path, "wb") as f:
        f.write(data)
    return zlib.crc32(data)


def blk_devices(disk):
    return ["-drive", f"file={disk},format=raw,if=none,id=d0",
            "-device", "virtio-blk-device,drive=d0"]


def check_blk_crcs(log, disk, crc_before):
    """The guest read the random image (initial CRC) and wrote its pattern
    (final CRC): both must agree with the file on the host."""
    log = log.replace("\r", "")
    m = re.search(r"^blk: vda range 0\+(\d+)$", log, re.M)
    assert m and int(m.group(1)) * 512 == DISK_BYTES, "blk test did not cover the disk"
    m = re.search(r"^blk: vda initial crc32 0x([0-9a-f]{8})", log, re.M)
    assert m and int(m.group(1), 16) == crc_before, "guest read other data than the image holds"
    with open(disk, "rb") as f:
        crc_after = zlib.crc32(f.read())
    m = re.search(r"^blk: vda final crc32 0x([0-9a-f]{8})", log, re.M)
    assert m and int(m.group(1), 16) == crc_after, "image differs from what the guest wrote"
    assert crc_after != crc_before, "the guest's writes did not reach the image"


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("machine", list(LAYOUTS))
def test_rng_and_blk(qemu, tmp_path, machine, version):
    slots, gsi0, trigger, source = LAYOUTS[machine]
    disk = str(tmp_path / "disk.img")
    crc_before = make_disk(disk)
    devices = ["-device", "virtio-rng-device"] + blk_devices(disk)
    if version == "v2":
        devices += ["-global", "virtio-mmio.force-legacy=false"]
    vm = qemu(machine=machine, kernel=KERNEL, append="test=mmio,rng,blk",
              devices=devices, timeout=40)
    status = vm.wait()
    log = vm.log
    assert status == STATUS_PASS, f"selftest status {status}"

    found = listing(log)
    top = slots - 1
    expect = {SLOT0 + top * SLOT_SIZE: (gsi0 + top, 4, "rng"),
              SLOT0 + (top - 1) * SLOT_SIZE: (gsi0 + top - 1, 2, "block")}
    assert set(found) == set(expect), f"transports at {[hex(b) for b in found]}"
    for base, (gsi, dev, name) in expect.items():
        t = found[base]
        assert (t["gsi"], t["device"], t["name"]) == (gsi, dev, name), (hex(base), t)
        assert t["size"] == SLOT_SIZE and t["version"] == version, (hex(base), t)
        assert t["trigger"] == trigger and t["from"] == source, (hex(base), t)

    bus = "mmio-legacy" if version == "v1" else "mmio"
    assert re.search(rf"rng0: virtio\d+ transport {bus} ", log), "rng not on this transport"
    assert re.search(r"ok \d+ - rng0: bytes arrived by interrupt", log)
    assert "not ok" not in log
    check_blk_crcs(log, disk, crc_before)


def test_malformed_cmdline_entries(qemu):
    """Three bad entries, each reported once with its text; the good ones
    (QEMU's own, appended after ours, and a hand-written one for an empty
    slot) still work."""
    bad = ["12Q@0xfeb00000:5", "512@0xfeb0zz00:6", "512@0xfeb00200"]
    append = " ".join(f"virtio_mmio.device={b}" for b in bad)
    append += " virtio_mmio.device=512@0xfeb00000:5 test=mmio,rng"
    vm = qemu(machine="microvm,acpi=off", kernel=KERNEL, append=append,
              devices=["-device", "virtio-rng-device"], timeout=30)
    status = vm.wait()
    log = vm.log.replace("\r", "")
    assert status == STATUS_PASS, f"selftest status {status}"
    errors = [line for line in log.split("\n") if line.startswith("error: virtio-mmio:")]
    assert len(errors) == len(bad), "\n".join(errors)
    for b, why in zip(bad, ["size", "base address", "irq"]):
        lines = [e for e in errors if f"virtio_mmio.device={b}:" in e]
        assert len(lines) == 1 and why in lines[0] and "ignored" in lines[0], (b, lines)
    found = listing(log)
    assert found[0xfeb00e00]["name"] == "rng" and found[0xfeb00e00]["gsi"] == 12
    assert found[0xfeb00000]["device"] == 0 and found[0xfeb00000]["gsi"] == 5, found
    assert len(found) == 2


@pytest.mark.parametrize("entry, verdict", [
    # 2 MiB mapping steps wrapped past 2^64: "out of memory for page tables".
    ("512@0xffffffffffff0000:12", "lies beyond"),
    # Beyond a 40-bit CPU: a reserved-bit #PF in the first register read.
    ("512@0x100000000000:12", "lies beyond"),
])
def test_unaddressable_cmdline_entry_is_refused(qemu, entry, verdict):
    """Each value once crashed the boot. ioremap must refuse the range,
    naming it and the CPU's width; the transport is skipped; the rng at
    QEMU's own slot still works and the shell answers."""
    base = entry.split("@")[1].split(":")[0]
    vm = qemu(machine="microvm,acpi=off", kernel=KERNEL,
              append=f"virtio_mmio.device={entry} test=rng",
              devices=["-device", "virtio-rng-device"], timeout=30)
    status = vm.wait()
    log = vm.log.replace("\r", "")
    assert "PANIC" not in log and "EXCEPTION" not in log, log[-2000:]
    assert re.search(rf"error: ioremap: base {base} size 0x200 {verdict} the CPU's physical "
                     rf"address space \(\d+-bit physical addresses", log), log[-2000:]
    assert f"error: virtio-mmio@{base}: cannot map 0x200 bytes" in log
    assert re.search(r"ok \d+ - rng0: bytes arrived by interrupt", log)
    assert status == STATUS_PASS, f"selftest status {status}"


def test_unaddressable_cmdline_entry_leaves_a_shell(qemu):
    vm = qemu(machine="microvm,acpi=off", kernel=KERNEL,
              append="virtio_mmio.device=512@0x100000000000:12", timeout=30)
    vm.expect_exact(PROMPT)
    vm.sendline("mmio")
    vm.expect(r"base 0x100000000000 size 0x200 gsi 12 \S+ unusable")
    vm.expect_exact(PROMPT)
    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT


def test_same_transport_acpi_and_cmdline_registered_once(qemu):
    """ACPI describes the rng at 0xfeb02e00/GSI 47; the command line names it
    again (and an edge trigger would be its default): one transport, ACPI's
    level trigger, one virtio device, one rng."""
    vm = qemu(machine="microvm", kernel=KERNEL,
              append="virtio_mmio.device=512@0xfeb02e00:47 "
                     "virtio_mmio.device=512@0xfeb02e00:9 "
                     "virtio_mmio.device=0x400@0xfeb02c00:46 test=mmio,rng",
              devices=["-device", "virtio-rng-device"], timeout=30)
    status = vm.wait()
    log = vm.log.replace("\r", "")
    assert status == STATUS_PASS, f"selftest status {status}"
    found = listing(log)
    assert list(found) == [0xfeb02e00], found
    t = found[0xfeb02e00]
    assert t["from"] == "acpi+cmdline" and t["trigger"] == "level-high", t
    assert "virtio-mmio@0xfeb02e00: also on the command line; registered once" in log
    # The same base with another GSI: the first description (ACPI) is kept.
    assert re.search(r"warning: virtio-mmio@0xfeb02e00: described again \(command line\) "
                     r"with size 0x200 GSI 9, first seen \(ACPI\) .*GSI 47; keeping the first",
                     log), log
    # A window overlapping the ACPI one is refused.
    assert re.search(r"error: virtio-mmio@0xfeb02c00: window of 0x400 bytes overlaps the "
                     r"transport at 0xfeb02e00", log), log
    assert len(re.findall(r"^virtio\d+: virtio-rng driver bound", log, re.M)) == 1
    assert "ok 1 - rng: 1 virtio-rng device(s) bound" in log or \
        re.search(r"ok \d+ - rng: 1 virtio-rng device\(s\) bound", log)


def test_shell_lists_transports(qemu, tmp_path):
    disk = str(tmp_path / "disk.img")
    make_disk(disk)
    vm = qemu(machine="microvm", kernel=KERNEL, append="",
              devices=["-device", "virtio-rng-device"] + blk_devices(disk), timeout=30)
    vm.expect_exact(PROMPT)
    vm.sendline("mmio")
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    assert re.search(r"mmio0: base 0xfeb02e00 size 0x200 gsi 47 level-high v1 device 4 "
                     r"\(rng\) virtio\d+ from acpi \\_SB_.VR23", out), out
    assert re.search(r"mmio1: base 0xfeb02c00 size 0x200 gsi 46 level-high v1 device 2 "
                     r"\(block\)", out), out
    assert re.search(r"vector \d+, \d+ interrupts", out), out
    vm.sendline("aml")
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    assert re.search(r"\\_SB_.VR22\s+hid LNRO0005\s+uid 22 mem 0xfeb02c00\+0x200 irq 46 level",
                     out), out
    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT
