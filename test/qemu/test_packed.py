"""Packed virtqueues (virtio 1.2 section 2.8, VIRTIO_F_RING_PACKED) in QEMU.

QEMU offers VIRTIO_F_RING_PACKED only with `packed=on`; the core accepts it
on modern transports (PCI modern, MMIO version 2) unless `virtio.ring=split`,
and never on legacy ones. Each boot checks from outside that the kernel
reports the layout it uses ("driver bound (...) ring=packed") and that the
unchanged drivers work over it: the blk integrity check of test_blk.py
(every sector of the image file verified on the host), rng bytes by
interrupt, and net traffic (DHCP, ping, UDP echo through a host socket).
"""

import re
import zlib

import pytest

from qemu import KERNEL, STATUS_PASS
from test_blk import (MIB, SEED_INIT, disk, make_image, parse_report, run_selftest,
                      sector_data, verify_image)
from net_helpers import UdpEchoPeer, user_netdev

RING_PACKED = 1 << 34


def bound(log, driver):
    """(features, ring layout) of the `driver bound` line for `driver`."""
    m = re.search(rf"^virtio\d+: {driver} driver bound \([^)]*features (0x[0-9a-f]+)\) "
                  r"ring=(\w+)", log, re.M)
    assert m, f"no '{driver} driver bound ... ring=' line"
    return int(m.group(1), 16), m.group(2)


def check_blk(log, img, total):
    rep = parse_report(log, "vda")
    assert rep["initial_crc"] == zlib.crc32(b"".join(sector_data(s, SEED_INIT)
                                                     for s in range(total)))
    assert rep["holes"] and rep["zeroes"] and rep["discard"]
    verify_image(img, total, rep)


@pytest.mark.parametrize("transport", ["modern-only", "transitional"])
def test_packed_blk_pci(qemu, tmp_path, transport):
    """virtio-blk-pci,packed=on (and virtio-rng-pci,packed=on on the
    modern-only boot): packed rings in use, the disk verified sector by
    sector, rng bytes arrive."""
    extra = ",packed=on" + (",disable-legacy=on" if transport == "modern-only" else "")
    img = str(tmp_path / "disk.img")
    total = 4 * MIB // 512
    make_image(img, total)
    devices = disk(img, "d0", extra=extra)
    tests = "blk"
    if transport == "modern-only":
        devices += ["-device", "virtio-rng-pci,packed=on,disable-legacy=on"]
        tests = "blk,rng"
    vm = qemu(machine="q35", kernel=KERNEL, append=f"test={tests}", devices=devices,
              timeout=90)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, f"test={tests} exited with {status}:\n{log[-6000:]}"
    features, ring = bound(log, "virtio-blk")
    assert ring == "packed" and features & RING_PACKED, (hex(features), ring)
    assert re.search(r"^vda: virtio\d+ \(pci-modern msix", log, re.M)
    check_blk(log, img, total)
    if transport == "modern-only":
        features, ring = bound(log, "virtio-rng")
        assert ring == "packed" and features & RING_PACKED
        assert len(re.findall(r"^rng: read \d ([0-9a-f]{64})$", log, re.M)) == 2


def test_packed_blk_mmio_v2(qemu, tmp_path):
    """microvm, virtio-mmio version 2 (force-legacy=false), packed=on: the
    transport programs the three areas of the packed ring."""
    img = str(tmp_path / "disk.img")
    total = 4 * MIB // 512
    make_image(img, total)
    devices = ["-global", "virtio-mmio.force-legacy=false",
               "-drive", f"file={img},format=raw,if=none,id=d0",
               "-device", "virtio-blk-device,drive=d0,packed=on"]
    vm = qemu(machine="microvm", kernel=KERNEL, append="test=blk", devices=devices, timeout=90)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, f"test=blk exited with {status}:\n{log[-6000:]}"
    features, ring = bound(log, "virtio-blk")
    assert ring == "packed" and features & RING_PACKED, (hex(features), ring)
    assert re.search(r"virtio-blk driver bound \(mmio,", log)
    check_blk(log, img, total)


# Where packed must not be used: (machine, devices, append, why)
SPLIT_CASES = {
    "legacy-pci": ("pc", ["-device", "virtio-rng-pci,packed=on,disable-modern=on"], "",
                   "the legacy interface has no packed layout"),
    "mmio-v1": ("microvm", ["-device", "virtio-rng-device,packed=on"], "",
                "MMIO version 1 is legacy"),
    "ring-split": ("q35", ["-device", "virtio-rng-pci,packed=on,disable-legacy=on"],
                   "virtio.ring=split", "the user asked for split"),
}


@pytest.mark.parametrize("case", list(SPLIT_CASES))
def test_packed_not_used(qemu, case):
    """A device offering packed=on still gets a split ring, and works."""
    machine, devices, append, why = SPLIT_CASES[case]
    vm = qemu(machine=machine, kernel=KERNEL, append=f"test=rng {append}".strip(),
              devices=devices, timeout=60)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, f"{why}: test=rng exited with {status}:\n{log[-4000:]}"
    features, ring = bound(log, "virtio-rng")
    assert ring == "split" and not features & RING_PACKED, (why, hex(features), ring)


def test_packed_bad_ring_option(qemu):
    """virtio.ring=bogus is reported (what was seen, what is expected) and
    treated as auto: the packed ring is used."""
    vm = qemu(machine="q35", kernel=KERNEL, append="test=rng virtio.ring=bogus",
              devices=["-device", "virtio-rng-pci,packed=on,disable-legacy=on"], timeout=60)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, log[-4000:]
    assert re.search(r"cmdline: virtio\.ring=bogus: expected split, packed or auto; ignored", log)
    assert bound(log, "virtio-rng")[1] == "packed"


@pytest.mark.parametrize("device", ["virtio-net-pci,netdev=n0,packed=on,disable-legacy=on",
                                    "virtio-net-pci,netdev=n0,packed=on"])
def test_packed_net(qemu, device):
    """virtio-net over packed rx/tx/ctrl queues: DHCP, ping to the gateway,
    8 UDP datagrams to a host socket and back (test=net)."""
    peer = UdpEchoPeer()
    try:
        vm = qemu(machine="q35", kernel=KERNEL, append=f"test=net net.peer=10.0.2.2:{peer.port}",
                  devices=user_netdev() + ["-device", device], timeout=60)
        status, log = vm.run_to_exit()
    finally:
        peer.close()
    assert status == STATUS_PASS, log[-6000:]
    features, ring = bound(log, "virtio-net")
    assert ring == "packed" and features & RING_PACKED, (hex(features), ring)
    assert "8 of 8 echoed back correctly" in log
