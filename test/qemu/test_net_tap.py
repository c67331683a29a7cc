"""virtio-net on a tap device inside a network namespace the test creates
(and always deletes): Linux's ping and TCP clients in the namespace reach
the guest, and a multi-queue tap with mq=on makes the guest negotiate
VIRTIO_NET_F_MQ, enable two queue pairs through the control queue, and
carry traffic on both. Addresses exist only inside the namespace.

Skipped, with the reason, where network namespaces or taps are not
allowed (not root, no /dev/net/tun, a sandbox refusing CLONE_NEWNET)."""

import os
import re
import socket
import subprocess
import threading
import uuid

import pytest

from qemu import KERNEL, Qemu
from net_helpers import counters, shell, wait_address

GUEST = "10.199.0.2"
ETH_HLEN = 14
HOST = "10.199.0.1"


def run(*args, check=True):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=60, check=check)


@pytest.fixture
def netns(request):
    """A fresh namespace with a tap `vtap0` addressed HOST/24 (multi-queue
    for the multiqueue test: QEMU opens it the way it was created)."""
    if os.geteuid() != 0:
        pytest.skip("needs root for ip netns / tuntap")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun")
    name = "vos-" + uuid.uuid4().hex[:8]
    r = run("ip", "netns", "add", name, check=False)
    if r.returncode != 0:
        pytest.skip(f"ip netns add refused: {r.stdout.strip()}")
    try:
        mq = ("multi_queue",) if "multiqueue" in request.node.name else ()
        # No IPv6 in the namespace: its router and neighbour solicitations
        # would be noise in the byte counts the MTU tests compare.
        for cmd in (("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"),
                    ("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1"),
                    ("ip", "tuntap", "add", "dev", "vtap0", "mode", "tap") + mq,
                    ("ip", "addr", "add", f"{HOST}/24", "dev", "vtap0"),
                    ("ip", "link", "set", "vtap0", "up"),
                    ("ip", "link", "set", "lo", "up")):
            r = run("ip", "netns", "exec", name, *cmd, check=False)
            if r.returncode != 0:
                pytest.skip(f"{' '.join(cmd)} refused in the namespace: {r.stdout.strip()}")
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)


class NsQemu(Qemu):
    """QEMU run inside the namespace, so the tap is found there."""

    def __init__(self, ns, **kw):
        super().__init__(**kw)
        self.ns = ns

    def args(self):
        return ["ip", "netns", "exec", self.ns] + super().args()


def start(request, tmp_path, ns, devices):
    vm = NsQemu(ns, machine="q35", kernel=KERNEL, append=f"ip={GUEST}/24,gw={HOST}",
                devices=devices, timeout=120, tmpdir=str(tmp_path), name=request.node.name)
    request.node.qemu_instances = [vm]
    vm.start()
    request.addfinalizer(vm.close)
    return vm


def ns_echo_clients(ns, nconn, nbytes):
    """TCP clients inside the namespace, each sending nbytes to the guest's
    echo port and checking the echo (a small Python program run there)."""
    prog = f"""
import os, socket, sys, threading
ok = []
def one(i):
    data = os.urandom({nbytes})
    s = socket.create_connection(("{GUEST}", 7), timeout=60)
    t = threading.Thread(target=s.sendall, args=(data,)); t.start()
    got = bytearray()
    while len(got) < len(data):
        c = s.recv(1 << 20)
        if not c: break
        got += c
    t.join(); s.close()
    ok.append(bytes(got) == data)
ts = [threading.Thread(target=one, args=(i,)) for i in range({nconn})]
[t.start() for t in ts]; [t.join() for t in ts]
print("echo-ok", sum(ok), "of", {nconn})
"""
    return run("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", prog, check=False).stdout


def test_net_tap_linux_peer(request, tmp_path, netns):
    """Linux's ping and a TCP client in the namespace reach the guest
    (with the offloads a tap offers: csum, guest_csum)."""
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off",
                "-device", "virtio-net-pci,netdev=n0"])
    wait_address(vm, GUEST)
    r = run("ip", "netns", "exec", netns, "ping", "-c", "3", "-i", "0.3", "-W", "5", GUEST,
            check=False)
    assert r.returncode == 0 and "3 received" in r.stdout, r.stdout
    out = ns_echo_clients(netns, 1, 4 << 20)
    assert "echo-ok 1 of 1" in out, out
    out = shell(vm, f"ping {HOST} 2")
    assert "2 received" in out, out
    out = shell(vm, "ifconfig -v")
    assert " csum" in out and "guest_csum" in out, out
    c = counters(out)
    assert c["drop_bad-csum"] == 0 and c["drop_too-long"] == 0, out


def test_net_tap_multiqueue(request, tmp_path, netns):
    """queues=2 + mq=on: MQ negotiated, two pairs enabled via the control
    queue, and both pairs' counters move under several connections."""
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off,queues=2",
                "-device", "virtio-net-pci,netdev=n0,mq=on,vectors=6"])
    wait_address(vm, GUEST)
    assert re.search(r"eth0: .* 2 queue pair\(s\)", vm.log), vm.log
    out = ns_echo_clients(netns, 16, 256 << 10)
    assert "echo-ok 16 of 16" in out, out
    out = shell(vm, "ifconfig -v")
    assert "queue pairs in use: 2" in out and " mq" in out, out
    q = counters(out)["queues"]
    assert len(q) == 2, out
    for i, (rx, tx) in enumerate(q):
        assert rx > 0 and tx > 0, f"queue {i} carried no traffic:\n{out}"


def ping_from_ns(ns, size, count=3):
    """Linux ping in the namespace with fragmentation forbidden (-M do):
    each echo is one IPv4 packet of size + 28 bytes in one frame."""
    return run("ip", "netns", "exec", ns, "ping", "-c", str(count), "-i", "0.3", "-W", "3",
               "-M", "do", "-s", str(size), GUEST, check=False).stdout


@pytest.mark.parametrize("mrg", ["on", "off"])
def test_net_tap_jumbo_mtu(request, tmp_path, netns, mrg):
    """host_mtu=9000 offers VIRTIO_NET_F_MTU: the guest takes MTU 9000
    and answers 8000-byte pings in single 8042-byte frames each way, with
    mergeable buffers (a frame spans several 2 KiB buffers) and without
    (every receive buffer is frame-sized)."""
    run("ip", "netns", "exec", netns, "ip", "link", "set", "vtap0", "mtu", "9000")
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off",
                "-device", f"virtio-net-pci,netdev=n0,host_mtu=9000,mrg_rxbuf={mrg}"])
    wait_address(vm, GUEST)
    assert re.search(r"eth0: .*MTU 9000,", vm.log), vm.log
    assert "1 received" in ping_from_ns(netns, 56, count=1)  # ARP settled both ways
    before = counters(shell(vm, "ifconfig -v"))
    out = ping_from_ns(netns, 8000)
    assert "3 received" in out, out
    out = shell(vm, "ifconfig -v")
    assert " mtu" in out and ("mrg_rxbuf" in out) == (mrg == "on"), out
    after = counters(out)
    # Three 8042-byte frames each way, plus at most an ARP exchange: had
    # either side split the packets, the extra Ethernet and IP headers of
    # six fragments per packet would add over 500 bytes.
    frames = 3 * (ETH_HLEN + 28 + 8000)
    for way in ("rx", "tx"):
        grew = after[way + "_bytes"] - before[way + "_bytes"]
        assert frames <= grew <= frames + 2 * 60, (way, before, out)
    assert after["drop_too-long"] == 0, out


def test_net_tap_frame_above_mtu_dropped(request, tmp_path, netns):
    """Without VIRTIO_NET_F_MTU the guest's MTU is 1500; a 3028-byte frame
    from a peer with a larger MTU is dropped and counted as too long (never
    read past 1518 bytes), and ordinary traffic goes on."""
    run("ip", "netns", "exec", netns, "ip", "link", "set", "vtap0", "mtu", "9000")
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off",
                "-device", "virtio-net-pci,netdev=n0"])
    wait_address(vm, GUEST)
    assert re.search(r"eth0: .*MTU 1500,", vm.log), vm.log
    out = ping_from_ns(netns, 3000, count=2)
    assert " 0 received" in out, out
    out = shell(vm, "ifconfig -v")
    assert counters(out)["drop_too-long"] == 2, out
    out = ping_from_ns(netns, 1000, count=2)
    assert "2 received" in out, out
