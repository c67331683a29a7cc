"""virtio-net on a tap device inside a network namespace the test creates
(and always deletes): Linux's ping and TCP clients in the namespace reach
the guest, and a multi-queue tap with mq=on makes the guest negotiate
VIRTIO_NET_F_MQ, enable two queue pairs through the control queue, and
carry traffic on both. Addresses exist only inside the namespace.

Transmit checksum offload (VIRTIO_NET_F_CSUM, which QEMU offers with a
tap): Linux in the tap's namespace would trust a partially checksummed
frame delivered to it locally (CHECKSUM_PARTIAL counts as verified), so the
checks use a second namespace routed through the first over a veth pair
whose transmit checksumming is off: Linux forwards each of the guest's
partial frames, finishes its checksum in software on the way out
(skb_checksum_help, with the pseudo-header sum the guest left in the
field), and the receiving namespace, with receive checksumming off too,
verifies every checksum itself and drops bad ones.

Skipped, with the reason, where network namespaces or taps are not
allowed (not root, no /dev/net/tun, a sandbox refusing CLONE_NEWNET)."""

import json
import re
import subprocess

import pytest

from net_helpers import (GUEST, HOST, counters, netns, run, shell, start_in_ns as start,  # noqa: F401
                         wait_address)

ETH_HLEN = 14
ROUTER = "10.198.0.1"  # the tap's namespace, on the veth towards PEER
PEER = "10.198.0.2"    # Linux in a second namespace, routed through the first


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
    # The offload is in use (its correctness: test_net_tap_tx_checksum).
    state, partial, _ = tx_csum_counters(out)
    assert state == "on" and partial > 0, out
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


# ---- transmit checksum offload, checked by a Linux that verifies -------------

# Turns an offload of a veth off through the SIOCETHTOOL ioctl (no ethtool
# binary needed): argv = IFNAME tx|rx; prints the value read back.
ETHTOOL_OFF = r"""
import ctypes, fcntl, socket, struct, sys
SET, GET = {"rx": (0x15, 0x14), "tx": (0x17, 0x16)}[sys.argv[2]]  # ETHTOOL_[SG][RT]XCSUM
def call(cmd, value):
    buf = ctypes.create_string_buffer(struct.pack("II", cmd, value))  # struct ethtool_value
    ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(buf)).ljust(40, b"\0")
    fcntl.ioctl(socket.socket(), 0x8946, ifr)  # SIOCETHTOOL
    return struct.unpack("II", buf.raw[:8])[1]
call(SET, 0)
print(sys.argv[1], sys.argv[2], "csum", call(GET, 0))
"""


@pytest.fixture
def peer_ns(netns):
    """A second namespace, PEER/24 on a veth to the tap's namespace, which
    forwards between the guest and PEER. The veth's transmit checksumming
    is off on the forwarding side and its receive checksumming on PEER's
    side: every checksum the guest left partial is finished by Linux in
    software, and PEER verifies each one itself (module docstring)."""
    name = netns + "-peer"
    r = run("ip", "netns", "add", name, check=False)
    if r.returncode != 0:
        pytest.skip(f"ip netns add refused: {r.stdout.strip()}")
    try:
        for ns, *cmd in ((netns, "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb"),
                         (netns, "ip", "link", "set", "vb", "netns", name),
                         (netns, "ip", "addr", "add", f"{ROUTER}/24", "dev", "va"),
                         (netns, "ip", "link", "set", "va", "up"),
                         (netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"),
                         (name, "ip", "addr", "add", f"{PEER}/24", "dev", "vb"),
                         (name, "ip", "link", "set", "vb", "up"),
                         (name, "ip", "link", "set", "lo", "up"),
                         (name, "ip", "route", "add", "default", "via", ROUTER)):
            r = run("ip", "netns", "exec", ns, *cmd, check=False)
            if r.returncode != 0:
                pytest.skip(f"{' '.join(cmd)} refused in the namespace: {r.stdout.strip()}")
        for ns, dev, way in ((netns, "va", "tx"), (name, "vb", "rx")):
            r = run("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", ETHTOOL_OFF, dev, way,
                    check=False)
            assert r.stdout.strip() == f"{dev} {way} csum 0", r.stdout
        yield name
    finally:
        run("ip", "netns", "del", name, check=False)


PEER_TCP_PORT = 7007
PEER_UDP_PORT = 7008

# In PEER's namespace: a TCP echo server and a UDP receiver that checks
# every byte of the guest's `nettest udp` datagrams (net/net_tools.c: the
# sequence number, then pattern(n * size + i)); "ready" once listening,
# the counts as JSON once stdin closes.
PEER_SERVERS = rf"""
import json, socket, struct, sys, threading, time
def pattern(i):
    return ((i * 131) ^ (i >> 9) ^ (i >> 17) ^ 0x5a) & 0xff
tcp = socket.socket()
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", {PEER_TCP_PORT}))
tcp.listen(4)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
udp.bind(("0.0.0.0", {PEER_UDP_PORT}))
st = {{"tcp_bytes": 0, "udp_ok": {{}}, "udp_bad": 0}}
def echo(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
            st["tcp_bytes"] += len(d)
def accept():
    while True:
        threading.Thread(target=echo, args=(tcp.accept()[0],), daemon=True).start()
def udp_rx():
    while True:
        d = udp.recv(65536)
        n = struct.unpack_from("<I", d)[0] if len(d) >= 4 else 0
        if len(d) >= 4 and all(d[i] == pattern(n * len(d) + i) for i in range(4, len(d))):
            st["udp_ok"][str(len(d))] = st["udp_ok"].get(str(len(d)), 0) + 1
        else:
            st["udp_bad"] += 1
threading.Thread(target=accept, daemon=True).start()
threading.Thread(target=udp_rx, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
time.sleep(1)
print(json.dumps(st), flush=True)
"""

# In PEER's namespace: two datagrams to the guest's UDP echo port, each
# echoed back with addresses and ports swapped, hence the same checksum:
# "zero", 64 bytes whose UDP checksum computes to 0, which RFC 768 sends as
# 0xffff; "frag", 3000 bytes, fragmented both ways, whose echo must still
# carry a real checksum (0 would mean none). A packet socket on the veth
# reports the echoes' checksum fields as they arrived (the first fragment
# for "frag"). argv = GUEST PEER.
UDP_PROBES = r"""
import json, os, socket, struct, sys
guest, peer = sys.argv[1], sys.argv[2]
def fold(data):
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
raw.bind(("vb", 0))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((peer, 0))
u.settimeout(10)
sport = u.getsockname()[1]
zero = bytearray(os.urandom(64))
zero[62:64] = b"\0\0"
s = fold(socket.inet_aton(peer) + socket.inet_aton(guest) + struct.pack("!HH", 17, 72) +
         struct.pack("!HHHH", sport, 7, 72, 0) + zero)
zero[62:64] = struct.pack("!H", ~s & 0xffff)  # now everything sums to 0xffff
res = {}
for name, data in (("zero", bytes(zero)), ("frag", os.urandom(3000))):
    u.sendto(data, (guest, 7))
    try:
        ok = u.recv(65536) == data
    except socket.timeout:
        ok = False
    r = {"echo_ok": ok, "wire_csum": None, "fragmented": False}
    raw.settimeout(0.5)
    try:
        while r["wire_csum"] is None:
            f = raw.recv(65536)
            ip = f[14:]
            ihl = (ip[0] & 15) * 4
            frag = struct.unpack_from("!H", ip, 6)[0]
            if (ip[9] != 17 or ip[12:16] != socket.inet_aton(guest) or frag & 0x1fff
                    or struct.unpack_from("!HH", ip, ihl) != (7, sport)):
                continue
            r["wire_csum"] = struct.unpack_from("!H", ip, ihl + 6)[0]
            r["fragmented"] = bool(frag & 0x2000)
    except socket.timeout:
        pass
    res[name] = r
print(json.dumps(res))
"""


def tx_csum_counters(ifconfig_out):
    """ifconfig's `tx checksum offload on|off: partial N, software N`."""
    m = re.search(r"tx checksum offload (on|off): partial (\d+), software (\d+)", ifconfig_out)
    assert m, ifconfig_out
    return m.group(1), int(m.group(2)), int(m.group(3))


@pytest.mark.parametrize("csum", ["on", "off"])
def test_net_tap_tx_checksum(request, tmp_path, netns, peer_ns, csum):
    """With csum=on the guest negotiates VIRTIO_NET_F_CSUM and its TCP and
    UDP frames leave partially checksummed (counted); with csum=off lwIP
    checksums them all. Either way a Linux that verifies every checksum
    gets it all: 1 MiB of TCP echoed back to the guest's nettest, every
    byte of 2 x 200 UDP datagrams (a full frame's worth and an odd size),
    a UDP echo whose checksum computes to 0 arriving as 0xffff, and a
    fragmented UDP echo carrying a real checksum."""
    vm = start(request, tmp_path, netns,
               ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off",
                "-device", f"virtio-net-pci,netdev=n0,csum={csum}"])
    wait_address(vm, GUEST)
    srv = subprocess.Popen(["ip", "netns", "exec", peer_ns, "/usr/bin/python3", "-c",
                            PEER_SERVERS], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        out = shell(vm, f"nettest tcp {PEER} {1 << 20} {PEER_TCP_PORT}", timeout=120)
        assert f"tcp {1 << 20} bytes echoed and verified" in out, out
        for size in (1472, 333):
            out = shell(vm, f"nettest udp {PEER}:{PEER_UDP_PORT} 200 {size}", timeout=120)
            assert f"udp 200 datagrams of {size} bytes" in out, out
        got = srv.communicate("", timeout=30)[0]
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    peer = json.loads(got.strip().splitlines()[-1])
    assert peer["udp_ok"] == {"1472": 200, "333": 200} and peer["udp_bad"] == 0, peer
    assert peer["tcp_bytes"] == 1 << 20, peer
    r = run("ip", "netns", "exec", peer_ns, "/usr/bin/python3", "-c", UDP_PROBES, GUEST, PEER,
            check=False)
    probes = json.loads(r.stdout.strip().splitlines()[-1])
    assert probes["zero"] == {"echo_ok": True, "wire_csum": 0xffff, "fragmented": False}, r.stdout
    assert probes["frag"]["echo_ok"] and probes["frag"]["fragmented"], r.stdout
    assert probes["frag"]["wire_csum"] not in (None, 0), r.stdout
    out = shell(vm, "ifconfig -v")
    state, partial, software = tx_csum_counters(out)
    if csum == "on":
        assert " csum" in out and state == "on" and partial > 0, out
    else:
        assert " csum" not in out and state == "off" and partial == 0, out
    assert software == 0, out
