"""The network services (net/echo_service.c, net/http_server.c,
net/conn_limit.c) against abusive clients, over a tap inside a network
namespace the test creates and deletes (net_helpers.netns): a connection
pool held full of idle and slowloris clients, datagrams to broadcast and
multicast addresses, UDP lengths that disagree with the IP payload, and
lwIP counters past 65,535. Each client runs inside the namespace as a
small Python program that prints its findings as JSON.

Skipped, with the reason, where namespaces or taps are not allowed."""

import json
import re
import subprocess

from net_helpers import (GUEST, HOST, netns, run, shell, start_in_ns,  # noqa: F401
                         wait_address)

TAP = ["-netdev", "tap,id=n0,ifname=vtap0,script=no,downscript=no,vhost=off",
       "-device", "virtio-net-pci,netdev=n0"]


def ns_json(ns, prog, *args, timeout=120):
    """Runs a Python program in the namespace; its last line, as JSON."""
    r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", prog, *args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout
    return json.loads(r.stdout.strip().splitlines()[-1])


def pool(netstat, service):
    """The counters of a service's `connections:` line in netstat."""
    m = re.search(service + r":.*\n  connections: (.*)", netstat)
    assert m, netstat
    line = m.group(1)
    m = re.match(r"(\d+) of (\d+) active \(peak (\d+)\), (\d+) waiting", line)
    assert m, line
    c = dict(zip(("active", "limit", "peak", "waiting"), map(int, m.groups())))
    c.update({k.replace(" ", "_"): int(v) for k, v in re.findall(
        r"(accepted|queued|evicted|idle timeouts|request timeouts) (\d+)", line)})
    return c


def lwip_stat(netstat, section, name):
    """A counter of lwIP's stats_display() block SECTION in netstat."""
    m = re.search(rf"^{section}\n((?:\t.*\n)+)", netstat, re.M)
    assert m, netstat
    return int(re.search(rf"\t{name}: (\d+)", m.group(1)).group(1))


# ---- a pool held full of idle and slow clients --------------------------------

# argv: GUEST, idle HTTP clients, slowloris clients, idle echo clients.
# Every connection is watched until the guest ends it: when (seconds after
# it opened) and the first bytes it got. Then, with the pools full, one new
# HTTP request and one new echo: how long each took.
POOL_ABUSE = r"""
import json, socket, sys, threading, time
guest = sys.argv[1]
n_idle_http, n_slow, n_idle_echo = map(int, sys.argv[2:5])
ended = {}
def watch(name, s, opened):
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except OSError as e:
        data += b"<" + type(e).__name__.encode() + b">"
    ended[name] = [time.monotonic() - opened, data[:40].decode("latin-1")]
def open_one(port, name, trickle=None):
    s = socket.create_connection((guest, port), timeout=60)
    threading.Thread(target=watch, args=(name, s, time.monotonic()), daemon=True).start()
    if trickle:
        def send_slowly():
            try:
                for b in trickle:
                    s.send(bytes([b]))
                    time.sleep(1)  # one header byte a second
            except OSError:
                pass
        threading.Thread(target=send_slowly, daemon=True).start()
    return s
socks = [open_one(80, f"http-idle-{i}") for i in range(n_idle_http)]
slow = b"GET / HTTP/1.1\r\nHost: guest\r\nX-Slow: " + b"a" * 100
socks += [open_one(80, f"slow-{i}", slow) for i in range(n_slow)]
socks += [open_one(7, f"echo-idle-{i}") for i in range(n_idle_echo)]
time.sleep(2)  # all of them idle for more than the 1 s eviction threshold
res = {}
t = time.monotonic()
c = socket.create_connection((guest, 80), timeout=30)
c.sendall(b"GET / HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n")
resp = b""
while True:
    d = c.recv(65536)
    if not d:
        break
    resp += d
res["http_new"] = [time.monotonic() - t, resp[:15].decode("latin-1")]
t = time.monotonic()
e = socket.create_connection((guest, 7), timeout=30)
e.sendall(b"still served")
got = b""
while len(got) < 12:
    d = e.recv(100)
    if not d:
        break
    got += d
res["echo_new"] = [time.monotonic() - t, got.decode("latin-1")]
e.close()
deadline = time.monotonic() + 40
while len(ended) < len(socks) and time.monotonic() < deadline:
    time.sleep(0.2)
res["ended"] = ended
res["opened"] = len(socks)
print(json.dumps(res))
"""

REQUEST_S, HTTP_IDLE_S, ECHO_IDLE_S = 6, 10, 10


def test_net_services_pool_full_of_idle_and_slow_clients(request, tmp_path, netns):
    """40 idle and 12 slowloris HTTP clients (limit 48) and 16 idle echo
    clients (limit 12): a new HTTP client and a new echo client are served
    at once, by evicting the connection idle longest; every slowloris gets
    408 within the request timeout of its first byte, every idle
    connection ends by eviction or its idle timeout, and the pools never
    held more than their limit."""
    vm = start_in_ns(request, tmp_path, netns, TAP,
                     append=f"net.http_request_timeout={REQUEST_S} "
                     f"net.http_idle_timeout={HTTP_IDLE_S} net.echo_idle_timeout={ECHO_IDLE_S}")
    wait_address(vm, GUEST)
    r = ns_json(netns, POOL_ABUSE, GUEST, "40", "12", "16")
    took, status = r["http_new"]
    # Well inside the request timeout, which is what would free a slot
    # without eviction (the slowloris connections' 408s).
    assert status.startswith("HTTP/1.1 200") and took < REQUEST_S / 2, r["http_new"]
    took, echoed = r["echo_new"]
    assert echoed == "still served" and took < REQUEST_S / 2, r["echo_new"]
    ended = r["ended"]
    assert len(ended) == r["opened"], f"connections the guest never ended: {r}"
    slow = {k: v for k, v in ended.items() if k.startswith("slow-")}
    got_408 = [t for t, data in slow.values() if data.startswith("HTTP/1.1 408")]
    assert got_408, slow
    for t in got_408:
        assert REQUEST_S - 1 <= t <= REQUEST_S + 2.5, slow
    for name, (t, data) in ended.items():
        limit = REQUEST_S if name.startswith("slow-") else (
            HTTP_IDLE_S if name.startswith("http") else ECHO_IDLE_S)
        assert t <= limit + 3, (name, t, data)
    out = shell(vm, "netstat")
    http, echo = pool(out, "http"), pool(out, "tcp echo")
    assert http["limit"] == 48 and http["peak"] == 48 and http["evicted"] >= 1, out
    assert http["request_timeouts"] >= 1 and http["idle_timeouts"] >= 1, out
    assert echo["limit"] == 12 and echo["peak"] == 12 and echo["evicted"] >= 4, out
    assert echo["idle_timeouts"] >= 1, out
    assert http["active"] == 0 and echo["active"] == 0, out


# ---- UDP echo: unicast only, lengths checked ----------------------------------

# argv: GUEST HOST. One datagram to each destination, from a socket on the
# tap; the echo (text, source) or null.
UDP_DESTS = r"""
import json, socket, sys
guest, host = sys.argv[1], sys.argv[2]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
u.setsockopt(socket.SOL_SOCKET, 25, b"vtap0\0")  # SO_BINDTODEVICE: 255.255.255.255 on the tap
u.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(host))
u.bind((host, 0))
u.settimeout(2)
res = {}
for name, dst in (("limited", "255.255.255.255"), ("subnet", "10.199.0.255"),
                  ("multicast", "224.0.0.1"), ("unicast", guest)):
    u.sendto(name.encode(), (dst, 7))
    try:
        data, src = u.recvfrom(100)
        res[name] = [data.decode(), src[0]]
    except socket.timeout:
        res[name] = None
print(json.dumps(res))
"""


def test_net_services_udp_echo_only_unicast(request, tmp_path, netns):
    """Datagrams to 255.255.255.255, the subnet broadcast and a multicast
    group get no echo (counted); one to the guest's address does."""
    vm = start_in_ns(request, tmp_path, netns, TAP)
    wait_address(vm, GUEST)
    run("ip", "netns", "exec", netns, "ip", "route", "add", "224.0.0.0/4", "dev", "vtap0")
    r = ns_json(netns, UDP_DESTS, GUEST, HOST)
    assert r == {"limited": None, "subnet": None, "multicast": None,
                 "unicast": ["unicast", GUEST]}, r
    out = shell(vm, "netstat")
    assert "udp echo: 1 echoed, 3 dropped (not unicast to us)" in out, out


# argv: GUEST HOST. Raw IPv4 datagrams to port 7 whose UDP Length field
# claims too little, far too much, or less than the IP payload, then one
# that is right; checksum 0 (none), so only the length can give them away.
UDP_LENGTHS = r"""
import json, socket, struct, sys
guest, host = sys.argv[1], sys.argv[2]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((host, 0))
u.settimeout(2)
sport = u.getsockname()[1]
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
def send(payload, claimed):
    udp = struct.pack("!HHHH", sport, 7, claimed, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(host), socket.inet_aton(guest))
    raw.sendto(ip + udp, (guest, 0))
res = {}
for name, payload, claimed in (("claims-4", b"x" * 20, 4), ("claims-65535", b"y" * 20, 65535),
                               ("claims-short", b"z" * 20, 8 + 10), ("right", b"ok" * 10, 28)):
    send(payload, claimed)
    try:
        res[name] = u.recv(100).decode()
    except socket.timeout:
        res[name] = None
print(json.dumps(res))
"""


def test_net_services_udp_length_must_match(request, tmp_path, netns):
    """A datagram whose UDP length is 4, 65,535 or shorter than its IP
    payload is dropped before the echo service and counted in lwIP's UDP
    lenerr; a correct one is echoed."""
    vm = start_in_ns(request, tmp_path, netns, TAP)
    wait_address(vm, GUEST)
    assert "1 received" in run("ip", "netns", "exec", netns, "ping", "-c", "1", "-W", "5",
                               GUEST, check=False).stdout  # ARP settled both ways
    r = ns_json(netns, UDP_LENGTHS, GUEST, HOST)
    assert r == {"claims-4": None, "claims-65535": None, "claims-short": None,
                 "right": "ok" * 10}, r
    out = shell(vm, "netstat")
    assert lwip_stat(out, "UDP", "lenerr") == 3, out
    assert "udp echo: 1 echoed" in out, out


def test_net_services_counters_past_16_bits(request, tmp_path, netns):
    """70,000 flood pings: lwIP's ICMP counters (LWIP_STATS_LARGE) count
    every one; 16-bit counters would show 4,464."""
    vm = start_in_ns(request, tmp_path, netns, TAP)
    wait_address(vm, GUEST)
    count = 70000
    r = run("ip", "netns", "exec", netns, "ping", "-f", "-q", "-c", str(count), "-W", "1",
            GUEST, check=False, timeout=600)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
    assert m and int(m.group(1)) == count, r.stdout
    received = int(m.group(2))
    assert received > 65535, r.stdout
    out = shell(vm, "netstat")
    recv, xmit = lwip_stat(out, "ICMP", "recv"), lwip_stat(out, "ICMP", "xmit")
    # Every echo request the guest got; it answered each (the replies Linux
    # saw are at most those).
    assert received <= xmit <= recv <= count + 10, (r.stdout, out)
