"""PCI enumeration with many devices at once, and the shell's view of it.

The multi-device boot puts rng, blk, net, a balloon (which no driver
serves) and a PCI-to-PCI bridge with a second rng behind it on fixed
addresses, runs `test=pci,rng` with the exact function count, and checks
the boot-time listing: every function at its address, the bridge's bus
scanned, the balloon listed and left alone with a clear message.
"""

import re

import pytest

from qemu import KERNEL, PROMPT, STATUS_HALT, STATUS_PASS

BASE_FUNCTIONS = {"q35": 6, "pc": 6}


def multi_devices(disk):
    return [
        "-device", "virtio-rng-pci,addr=8",
        "-drive", f"file={disk},format=raw,if=none,id=d0",
        "-device", "virtio-blk-pci,drive=d0,addr=9",
        "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,addr=0xa",
        "-device", "pci-bridge,chassis_nr=1,id=br1,addr=0xb",
        "-device", "virtio-rng-pci,bus=br1,addr=1",
        "-device", "virtio-balloon-pci,addr=0xc",
    ]


# address: (vendor:device, what the listing must show)
EXPECTED = {
    "00:08.0": ("1af4:1005", "rng"),
    "00:09.0": ("1af4:1001", "block"),
    "00:0a.0": ("1af4:1000", "net"),
    "00:0b.0": ("1b36:0001", "PCI bridge"),
    "01:01.0": ("1af4:1005", "rng"),
    "00:0c.0": ("1af4:1002", "balloon"),
}


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(1 << 20)
    return str(path)


@pytest.mark.parametrize("machine", ["q35", "pc"])
def test_multi_device_enumeration(qemu, disk, machine):
    # -netdev suppresses QEMU's default NIC: the base set loses one.
    count = BASE_FUNCTIONS[machine] - 1 + 6
    vm = qemu(machine=machine, kernel=KERNEL, append=f"test=pci,rng pci.expect={count}",
              devices=multi_devices(disk), timeout=60)
    status = vm.wait()
    log = vm.log
    assert status == STATUS_PASS, f"selftest failed (status {status})\n{log[-5000:]}"
    assert f"pci: {count} functions" in log
    for addr, (ids, _) in EXPECTED.items():
        assert re.search(rf"^pci: {addr} {ids} ", log, re.M), f"{addr} {ids} not listed"
    # The bridge's secondary bus was scanned: its device is listed right
    # after the bridge (depth first).
    assert re.search(r"^pci: 00:0b\.0 1b36:0001 .*\n(pci: +BAR.*\n)?pci: 01:01\.0 ", log, re.M)
    # Both rngs bound and answered by interrupt.
    assert "virtio-pci 01:01.0: rng device (type 4), modern interface" in log
    assert len(re.findall(r"^ok \d+ - rng\d: bytes arrived by interrupt", log, re.M)) == 2
    # The balloon: found, registered, and left alone with a clear message.
    m = re.search(r"^virtio-pci 00:0c\.0: virtio(\d+): no driver for virtio device type 5 "
                  r"\(balloon\); device left alone$", log, re.M)
    assert m, "balloon not reported as left alone"
    assert not re.search(rf"^virtio{m.group(1)}: .* driver bound", log, re.M)


def run(vm, command):
    vm.sendline(command)
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    return out.split("\n", 1)[1] if "\n" in out else ""


def test_shell_lspci_rng_irqs(qemu, disk):
    vm = qemu(machine="q35", kernel=KERNEL, append="", devices=multi_devices(disk),
              timeout=60)
    vm.expect_exact(PROMPT)

    out = run(vm, "lspci")
    for addr, (ids, _) in EXPECTED.items():
        assert re.search(rf"^{addr} {ids} ", out, re.M), f"lspci lacks {addr}\n{out}"
    assert re.search(r"^00:08\.0 1af4:1005 .* msix 2\(on\)$", out, re.M), out
    assert re.search(r"^\s+driver virtio-pci: virtio\d+ rng, pci-modern msix$", out, re.M), out
    assert re.search(r"^\s+driver virtio-pci: virtio\d+ balloon, modern, no driver$", out,
                     re.M), out
    assert re.search(r"^\s+BAR0 io 0x[0-9a-f]+ size 0x20, BAR1 mem32 0x[0-9a-f]+ size "
                     r"0x1000, BAR4 mem64 pf 0x[0-9a-f]+ size 0x4000$", out, re.M), out

    out = run(vm, "lspci -x")
    assert re.search(r"^00: f4 1a 05 10 ", out, re.M), "lspci -x shows no virtio header"

    a = run(vm, "rng 48")
    b = run(vm, "rng 48")
    ha, hb = ("".join(x.split()) for x in (a, b))
    assert re.fullmatch(r"[0-9a-f]{96}", ha), f"rng 48 printed {a!r}"
    assert ha != hb, "two `rng 48` gave the same bytes"

    out = run(vm, "irqs")
    assert re.search(r"virtio-rng\s+[1-9]\d*", out), f"no rng interrupts counted\n{out}"

    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT


def virtio_queues(out):
    """`virtio` output -> {device type: {"drivers": [...], queue name:
    {counter: value summed over the devices of that type}}}."""
    table, dev = {}, None
    for line in out.splitlines():
        m = re.match(r"virtio\d+ (\w+) \(id \d+\) .* driver (\S+)", line)
        if m:
            dev = table.setdefault(m.group(1), {"drivers": []})
            dev["drivers"].append(m.group(2))
            continue
        m = re.match(r"\s+vq \d+ (\S+)\s+(split|packed)\s+size \d+", line)
        if m:
            vq = dev.setdefault(m.group(1), {})
            continue
        if line.startswith("    "):
            for name, val in re.findall(r"([a-z-]+) (\d+)", line):
                vq[name] = vq.get(name, 0) + int(val)
    return table


def test_shell_virtio_queue_counters(qemu, disk):
    """`virtio` lists every virtio device with its driver and each queue's
    ring counters, and the counters follow real requests: one `rng` read
    is one buffer added, completed and interrupted on an rng queue; one
    `blk read` one request on req.0. The balloon shows no driver, no
    queues."""
    vm = qemu(machine="q35", kernel=KERNEL, append="", devices=multi_devices(disk),
              timeout=60)
    vm.expect_exact(PROMPT)
    before = virtio_queues(run(vm, "virtio"))
    assert before["balloon"] == {"drivers": ["none"]}, before
    assert before["rng"]["drivers"] == ["virtio-rng", "virtio-rng"], before
    assert before["net"]["drivers"] == ["virtio-net"] and "tx.0" in before["net"], before
    run(vm, "rng 16")
    run(vm, "blk read vda 0 4")
    after = virtio_queues(run(vm, "virtio"))
    for dev, vq in (("rng", "virtio-rng"), ("block", "req.0")):
        b, a = before[dev][vq], after[dev][vq]
        for counter in ("added", "completed", "interrupts"):
            assert a[counter] == b[counter] + 1, (dev, counter, b, a)
        assert a["kicks"] + a["suppressed"] == b["kicks"] + b["suppressed"] + 1, (dev, b, a)
        assert a["device-errors"] == 0 and a["len-clamped"] == 0, (dev, a)
    out = run(vm, "virtio virtio99")
    assert "virtio: no device 'virtio99'" in out, out
