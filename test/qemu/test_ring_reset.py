"""Queue reset (virtio 1.2 section 2.6.1, VIRTIO_F_RING_RESET; the modern
PCI transport's queue_reset register, 4.1.4.3) used to resize virtio-net's
rings with the shell's `ring` command, as Linux's `ethtool -G` does.

QEMU 7.2's virtio-pci devices offer RING_RESET (`queue_reset=on` is the
default). Every resize is checked from both ends: the guest's `ring` output
(ring sizes, buffers owned), the device's own idea of the ring through QMP
(`x-query-virtio-queue-status` gives vring-num), and traffic through host
sockets (ping, UDP echo, TCP echo verified byte for byte). The queue's
interrupts must keep arriving (the reset clears its MSI-X vector, the
driver must program it again), no memory may be lost (page allocator and
lwIP heap back to where they were), and a resize under TCP load must
corrupt nothing. Devices that cannot reset a queue (queue_reset=off, the
legacy interface) refuse with a reason and keep working.
"""

import re
import threading
import time

import pytest

from net_helpers import (MIB, counters, qmp, shell, tcp_echo_check, udp_echo_check,
                         wait_address)
from test_net import user_vm
from test_net_tap import GUEST, netns, ns_echo_clients, start  # noqa: F401 (netns: fixture)

RING_RESET = 1 << 40


def ring_vm(qemu, tmp_path, props, machine="q35"):
    sock = str(tmp_path / "qmp.sock")
    vm, ports = user_vm(qemu, device=f"virtio-net-pci,netdev=n0,id=net0{props}",
                        machine=machine, extra=["-qmp", f"unix:{sock},server=on,wait=off"],
                        timeout=90)
    return vm, ports, sock


def device_sizes(sock, queues=(0, 1)):
    """Ring sizes as the device sees them: queues 0 and 1 are rx and tx."""
    sizes = []
    for q in queues:
        reply = qmp(sock, {"execute": "x-query-virtio-queue-status",
                           "arguments": {"path": "/machine/peripheral/net0/virtio-backend",
                                         "queue": q}})[0]
        assert "return" in reply, reply
        sizes.append(reply["return"]["vring-num"])
    return tuple(sizes)


def parse_ring(out):
    m = re.search(r"eth0: rx (\d+) \(max (\d+)\), tx (\d+) \(max (\d+)\), (\w+) ring", out)
    assert m, out
    r = dict(rx=int(m.group(1)), rx_max=int(m.group(2)), tx=int(m.group(3)),
             tx_max=int(m.group(4)), layout=m.group(5))
    m = re.search(r"rx buffers (\d+) \(idle (\d+)\), tx slots (\d+) \(in flight (\d+)\)", out)
    assert m, out
    r.update(rx_bufs=int(m.group(1)), rx_idle=int(m.group(2)), tx_slots=int(m.group(3)),
             tx_inflight=int(m.group(4)))
    m = re.search(r"resize: no, (.*)", out)
    r["fixed"] = m.group(1) if m else None
    return r


def queue_irqs(vm):
    """Interrupts of queue pair 0's rx and tx queues so far."""
    out = shell(vm, "ifconfig")
    m = re.search(r"queue 0: .* irqs rx (\d+) tx (\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def pages_free_kib(vm):
    out = shell(vm, "mem")
    m = re.search(r"free (\d+) KiB", out)
    assert m, out
    return int(m.group(1))


def lwip_mem(vm):
    """lwIP heap bytes and TCP segments in use (netstat)."""
    out = shell(vm, "netstat")
    used = dict(re.findall(r"MEM (\S+)\n\s*avail: \d+\n\s*used: (\d+)", out))
    assert "HEAP" in used and "TCP_SEG" in used, out
    return int(used["HEAP"]), int(used["TCP_SEG"])


def traffic(vm, ports, tcp_bytes=256 * 1024):
    out = shell(vm, "ping 10.0.2.2 2")
    assert "2 received" in out, out
    udp_echo_check(ports["udp"], 4)
    tcp_echo_check(ports["tcp"], tcp_bytes)


def resize(vm, sock, ports, rx, tx):
    """`ring eth0 rx RX tx TX`, then check guest, device, interrupts, traffic."""
    irqs = queue_irqs(vm)
    out = shell(vm, f"ring eth0 rx {rx} tx {tx}")
    assert "not resized" not in out, out
    r = parse_ring(out)
    assert (r["rx"], r["tx"]) == (rx, tx), out
    # The driver's per-ring memory follows the ring.
    assert r["rx_bufs"] == rx and r["tx_slots"] == tx, out
    assert device_sizes(sock) == (rx, tx)
    traffic(vm, ports)
    after = queue_irqs(vm)
    assert after[0] > irqs[0] and after[1] > irqs[1], \
        f"queue interrupts stopped after the queue reset: {irqs} -> {after}"
    r = parse_ring(shell(vm, "ring eth0"))
    assert r["rx_idle"] == 0, r  # the receive ring was refilled to its new size


def refuse(vm, sock, ports, args, want):
    """A size the driver must refuse: a clear error, nothing changed."""
    before = parse_ring(shell(vm, "ring eth0"))
    dev = device_sizes(sock)
    out = shell(vm, f"ring eth0 {args}")
    assert re.search(want, out), out
    assert "ring: eth0: not resized: invalid size (-22)" in out, out
    r = parse_ring(out)
    assert (r["rx"], r["tx"]) == (before["rx"], before["tx"]), out
    assert device_sizes(sock) == dev
    traffic(vm, ports, 64 * 1024)


def resize_under_load(vm, ports, steps):
    """Resizes while 2 MiB of TCP echo flows: frames in flight are dropped
    by the reset and TCP retransmits them; nothing may be corrupted or
    leaked (the tokens of dropped frames go back to lwIP)."""
    heap, segs = lwip_mem(vm)
    errors = []

    def load():
        try:
            tcp_echo_check(ports["tcp"], 2 * MIB)
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    n = 0
    while t.is_alive() or n < 2:
        rx, tx = steps[n % len(steps)]
        out = shell(vm, f"ring eth0 rx {rx} tx {tx}")
        assert "not resized" not in out, out
        n += 1
    t.join(60)
    assert not errors, errors
    # Back to the last size asked for; then lwIP holds what it held before,
    # once TCP is done: an ACK that a queue reset dropped leaves segments
    # queued until the retransmission timer fires (seconds, with backoff).
    # A leak never drains, so waiting for it still catches one.
    traffic(vm, ports, 64 * 1024)
    deadline = time.monotonic() + 30
    while lwip_mem(vm) != (heap, segs) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert lwip_mem(vm) == (heap, segs), f"lwIP memory {heap, segs} -> {lwip_mem(vm)}"
    return n


SPLIT = [(64, 64), (128, 32), (256, 256)]
PACKED = [(64, 64), (100, 200), (256, 256)]
VARIANTS = [
    ("", SPLIT, "split"),                              # transitional, MSI-X per queue
    (",disable-legacy=on", SPLIT, "split"),            # modern only
    (",vectors=0", SPLIT, "split"),                    # INTx: no vector to restore
    (",disable-legacy=on,packed=on", PACKED, "packed"),
]


@pytest.mark.parametrize("props,steps,layout", VARIANTS,
                         ids=["transitional", "modern", "intx", "packed"])
def test_ring_resize(qemu, tmp_path, props, steps, layout):
    """Shrink and grow both rings; each size is what the guest reports and
    what the device uses, and traffic and interrupts go on. Back at the
    boot sizes, the page allocator has every page back. Invalid sizes are
    refused; resizing under TCP load loses nothing."""
    vm, ports, sock = ring_vm(qemu, tmp_path, props)
    r = parse_ring(shell(vm, "ring"))
    assert (r["rx"], r["tx"], r["layout"], r["fixed"]) == (256, 256, layout, None), r
    assert device_sizes(sock) == (256, 256)
    feats = int(re.search(r"features (0x[0-9a-f]+)", shell(vm, "ifconfig -v")).group(1), 16)
    assert feats & RING_RESET, hex(feats)
    traffic(vm, ports)
    free = pages_free_kib(vm)

    for rx, tx in steps:
        resize(vm, sock, ports, rx, tx)
    assert pages_free_kib(vm) == free, "pages lost over the resizes"

    refuse(vm, sock, ports, "rx 0", r"rx ring size 0 refused: expected 1\.\.256")
    refuse(vm, sock, ports, "rx 512", r"rx ring size 512 refused: expected 1\.\.256")
    refuse(vm, sock, ports, "tx 8", r"tx ring size 8 refused: expected 17\.\.256")
    if layout == "split":
        refuse(vm, sock, ports, "rx 100 tx 64",
               r"rx ring size 100 refused: expected 1\.\.256, a power of two")

    assert resize_under_load(vm, ports, [(64, 32), (256, 256)]) >= 2
    resize(vm, sock, ports, 256, 256)
    assert pages_free_kib(vm) == free, "pages lost over the resizes under load"
    assert "did not come back" not in vm.log, vm.log


NO_RESET = [
    ("q35", ",queue_reset=off", "the device does not offer queue reset (VIRTIO_F_RING_RESET)"),
    ("pc", ",disable-modern=on", "the legacy interface has no queue reset"),
]


@pytest.mark.parametrize("machine,props,reason", NO_RESET, ids=["queue_reset-off", "legacy"])
def test_ring_resize_unsupported(qemu, tmp_path, machine, props, reason):
    """Without queue reset the command says why it cannot resize, the
    rings stay as they are on both sides, and traffic keeps flowing."""
    vm, ports, sock = ring_vm(qemu, tmp_path, props, machine)
    feats = int(re.search(r"features (0x[0-9a-f]+)", shell(vm, "ifconfig -v")).group(1), 16)
    assert not feats & RING_RESET, hex(feats)
    r = parse_ring(shell(vm, "ring eth0"))
    assert r["fixed"] == reason, r
    out = shell(vm, "ring eth0 rx 64 tx 64")
    assert "ring: eth0: not resized: the device cannot resize its rings (-95)" in out, out
    r = parse_ring(out)
    assert (r["rx"], r["tx"], r["rx_bufs"], r["tx_slots"]) == (256, 256, 256, 256), out
    assert device_sizes(sock) == (256, 256)
    traffic(vm, ports)


def test_ring_resize_drops_in_flight(qemu, tmp_path):
    """A frame the device has not taken yet when its queue is reset is
    dropped, and its buffer goes back to the stack. QEMU's `tx=timer` mode
    makes that deterministic: once its transmit timer has run out, the next
    kick only arms it (2.5 s), so a ping request sits on the transmit ring
    (the ping times out after 1 s) until `ring` resets the queue under it.
    (Without event_idx QEMU's NO_NOTIFY flag stops the driver's extra kicks,
    which would flush the ring at once.)"""
    sock = str(tmp_path / "qmp.sock")
    vm, ports = user_vm(qemu, device="virtio-net-pci,netdev=n0,id=net0,tx=timer,"
                        "x-txtimer=2500000000,event_idx=off", append="ip=10.0.2.15/24,gw=10.0.2.2",
                        extra=["-qmp", f"unix:{sock},server=on,wait=off"], timeout=90)
    shell(vm, "ping 10.0.2.2 2")  # the gateway's MAC, so nothing waits for ARP later
    for _ in range(4):
        # The timer rearms while it finds frames: wait until it is idle.
        time.sleep(3)
        heap = lwip_mem(vm)
        out = shell(vm, "ping 10.0.2.2 1")
        if "1 packets transmitted, 0 received" in out:
            break
    else:
        raise AssertionError(f"the ping request never stayed on the ring:\n{out}")
    out = shell(vm, "ring eth0 tx 64")
    assert "eth0: tx.0: ring 256 -> 64 entries, 1 frame(s) in flight dropped" in out, out
    assert parse_ring(out)["tx_inflight"] == 0, out
    assert lwip_mem(vm) == heap, "the dropped frame's buffer was not given back to lwIP"
    assert device_sizes(sock) == (256, 64)
    out = shell(vm, "ping 10.0.2.2 3")
    assert re.search(r"3 packets transmitted, [123] received", out), out


def test_ring_resize_multiqueue(request, tmp_path, netns):
    """Two queue pairs (a multi-queue tap, as in test_net_tap.py): `ring`
    resizes every receive and every transmit ring, the device agrees on
    all four, and connections spread over both pairs still echo."""
    sock = str(tmp_path / "qmp.sock")
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off,queues=2",
                "-device", "virtio-net-pci,netdev=n0,id=net0,mq=on,vectors=6",
                "-qmp", f"unix:{sock},server=on,wait=off"])
    wait_address(vm, GUEST)
    before = counters(shell(vm, "ifconfig"))["queues"]
    out = shell(vm, "ring eth0 rx 64 tx 128")
    assert "2 queue pair(s)" in out, out
    r = parse_ring(out)
    assert (r["rx"], r["tx"], r["rx_bufs"], r["tx_slots"]) == (64, 128, 128, 256), out
    assert all(f"eth0: {q}: ring 256 -> " in out for q in ("rx.0", "tx.0", "rx.1", "tx.1")), out
    assert device_sizes(sock, queues=range(4)) == (64, 128, 64, 128)
    out = ns_echo_clients(netns, 16, 256 << 10)
    assert "echo-ok 16 of 16" in out, out
    after = counters(shell(vm, "ifconfig"))["queues"]
    for i in range(2):
        assert after[i][0] > before[i][0] and after[i][1] > before[i][1], (before, after)
