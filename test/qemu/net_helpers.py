"""Helpers for the virtio-net QEMU tests (test_net*.py) and bench_net.py:
host-side peers (UDP echo, TCP echo checker, HTTP client), the guest
shell, QMP, raw Ethernet frames for the dgram peer.

Traffic only ever goes to 127.0.0.1 (QEMU's hostfwd and dgram sockets) or
to addresses inside a network namespace the test created.
"""

import os
import random
import re
import socket
import struct
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

from qemu import KERNEL, PROMPT, Qemu, qmp  # noqa: F401 (qmp re-exported for the net tests)

MIB = 1 << 20
GUEST = "10.199.0.2"  # the guest on a tap in a namespace (netns)
HOST = "10.199.0.1"   # Linux in that namespace


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def shell(vm, cmd, timeout=60):
    """Run one shell command; return what it printed."""
    vm.sendline(cmd)
    vm.expect_exact(cmd)
    vm.expect_exact(PROMPT, timeout=timeout)
    return vm.child.before.replace("\r", "")


def wait_address(vm, addr=None, timeout=30):
    """Wait for eth0's address line (DHCP or static)."""
    # Up to the space after the prefix length: pexpect must not match "/2" of "/24".
    m = vm.expect(r"eth0: address (\d+\.\d+\.\d+\.\d+)/(\d+) ", timeout=timeout)
    if addr:
        assert m.group(1) == addr, vm.log
    return m.group(1)


def wait_listening(port, timeout=10):
    """Wait until a TCP socket listens on 127.0.0.1:port (a host iperf -s
    that is still starting), without connecting: a probe connection would
    be one more leg in the server's report."""
    want = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":  # TCP_LISTEN
                    return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class NsQemu(Qemu):
    """QEMU run inside a network namespace, so the tap created there is
    found (test_net_tap.py, bench_net.py)."""

    def __init__(self, ns, **kw):
        super().__init__(**kw)
        self.ns = ns

    def args(self):
        return ["ip", "netns", "exec", self.ns] + super().args()


# ---- a tap in a network namespace the test creates (test_net_tap.py, test_net_services.py)

def run(*args, check=True, timeout=60):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=check)


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


def start_in_ns(request, tmp_path, ns, devices, append=""):
    """The kernel in namespace ns at GUEST/24 (gateway HOST), killed at the
    end of the test."""
    vm = NsQemu(ns, machine="q35", kernel=KERNEL, append=f"ip={GUEST}/24,gw={HOST} {append}",
                devices=devices, timeout=120, tmpdir=str(tmp_path), name=request.node.name)
    request.node.qemu_instances = [vm]
    vm.start()
    request.addfinalizer(vm.close)
    return vm


def user_netdev(hostfwd=(), netid="n0", extra=""):
    fwd = "".join(f",hostfwd={proto}:127.0.0.1:{hp}-:{gp}" for proto, hp, gp in hostfwd)
    return ["-netdev", f"user,id={netid}{fwd}{extra}"]


def retry_connect(port, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def tcp_echo_check(port, nbytes, timeout=120):
    """Send nbytes of random data to a TCP echo server behind 127.0.0.1:port
    while reading the echo; assert it comes back byte for byte. Returns
    seconds taken."""
    payload = os.urandom(nbytes)
    s = retry_connect(port)
    s.settimeout(timeout)
    start = time.monotonic()
    errors = []

    def writer():
        try:
            view = memoryview(payload)
            for off in range(0, nbytes, 65536):
                s.sendall(view[off:off + 65536])
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    got = bytearray()
    while len(got) < nbytes:
        chunk = s.recv(1 << 20)
        assert chunk, f"echo connection closed after {len(got)} of {nbytes} bytes"
        got += chunk
    t.join(timeout)
    s.close()
    assert not errors, errors
    assert len(got) == nbytes
    if bytes(got) != payload:
        bad = next(i for i in range(nbytes) if got[i] != payload[i])
        raise AssertionError(f"echoed data differs at byte {bad} of {nbytes}")
    return time.monotonic() - start


def udp_echo_check(port, count=16, timeout=2.0, attempts=20):
    """Datagrams of random sizes to a UDP echo service at 127.0.0.1:port;
    each must come back unchanged (a lost one is re-sent a few times: UDP)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    ok = 0
    for i in range(count):
        data = os.urandom(random.randint(1, 1400))
        for _ in range(attempts):
            s.sendto(data, ("127.0.0.1", port))
            try:
                reply, _ = s.recvfrom(65536)
            except socket.timeout:
                continue
            assert reply == data, f"datagram {i}: echo differs"
            ok += 1
            break
    s.close()
    assert ok == count, f"{ok} of {count} datagrams echoed"


def http_get(port, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as r:
                return r.status, r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class UdpEchoPeer:
    """A UDP echo server on 127.0.0.1 (for test=net's net.peer)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.append(data)
            self.sock.sendto(data, addr)

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def counters(ifconfig_out):
    """Parse `ifconfig` output into a dict of counters."""
    c = {}
    m = re.search(r"rx packets (\d+) bytes (\d+), tx packets (\d+) bytes (\d+)", ifconfig_out)
    if m:
        c.update(rx_packets=int(m.group(1)), rx_bytes=int(m.group(2)),
                 tx_packets=int(m.group(3)), tx_bytes=int(m.group(4)))
    m = re.search(r"drops:(.*)", ifconfig_out)
    if m:
        for name, val in re.findall(r"([a-z-]+) (\d+)", m.group(1)):
            c["drop_" + name] = int(val)
    c["queues"] = [tuple(int(x) for x in q) for q in re.findall(
        r"queue \d+: rx (\d+) packets \d+ bytes, tx (\d+) packets", ifconfig_out)]
    return c


# ---- raw Ethernet frames for the dgram peer ----------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_bytes(ip):
    return socket.inet_aton(ip)


def arp_reply(src_mac, src_ip, dst_mac, dst_ip):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, src_mac, ip_bytes(src_ip),
                       dst_mac, ip_bytes(dst_ip))
    return dst_mac + src_mac + b"\x08\x06" + body


def icmp_echo(src_mac, src_ip, dst_mac, dst_ip, ident, seq, payload=b"virtio-os"):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     ip_bytes(src_ip), ip_bytes(dst_ip))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + icmp
