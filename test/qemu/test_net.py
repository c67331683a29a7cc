"""virtio-net + lwIP (drivers/virtio_net.c, net/): QEMU user networking
(DHCP, ping, UDP/TCP echo and HTTP through hostfwd), feature variants,
link status through QMP, two guests on a dgram link, and bad frames from a
raw peer socket. Taps in a network namespace: test_net_tap.py.

Every host socket is on 127.0.0.1."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from qemu import KERNEL, STATUS_PASS
from net_helpers import (MIB, PROMPT, UdpEchoPeer, arp_reply, counters, free_port,
                         http_get, icmp_echo, mac_bytes, qmp, shell, tcp_echo_check,
                         udp_echo_check, user_netdev, wait_address, wait_listening)


def user_vm(qemu, device="virtio-net-pci,netdev=n0", machine="q35", append="", extra=(),
            timeout=90):
    ports = {"tcp": free_port(), "udp": free_port(socket.SOCK_DGRAM), "http": free_port()}
    devices = user_netdev([("tcp", ports["tcp"], 7), ("udp", ports["udp"], 7),
                           ("tcp", ports["http"], 80)]) + ["-device", device] + list(extra)
    vm = qemu(machine=machine, kernel=KERNEL, append=append, devices=devices, timeout=timeout)
    wait_address(vm, "10.0.2.15")
    return vm, ports


def test_net_selftest_dhcp_ping_udp(qemu):
    """test=net: DHCP gives 10.0.2.15, the gateway answers pings, and
    datagrams to 10.0.2.2:PORT reach the host socket and come back."""
    peer = UdpEchoPeer()
    try:
        vm = qemu(machine="q35", kernel=KERNEL,
                  append=f"test=net net.peer=10.0.2.2:{peer.port}",
                  devices=user_netdev() + ["-device", "virtio-net-pci,netdev=n0"], timeout=60)
        status, log = vm.run_to_exit()
    finally:
        peer.close()
    assert status == STATUS_PASS, log
    assert "address 10.0.2.15 gateway 10.0.2.2" in log
    assert "8 of 8 echoed back correctly" in log
    assert [d.decode() for d in peer.received[:2]] == ["virtio-os udp 0", "virtio-os udp 1"]


def test_net_user_services(qemu):
    """Host to guest through hostfwd: UDP echo, 8 MiB of TCP echo checked
    byte for byte, the HTTP status page; guest to host: ping; counters."""
    vm, ports = user_vm(qemu)
    out = shell(vm, "ping 10.0.2.2 3")
    assert "3 packets transmitted, 3 received" in out, out
    udp_echo_check(ports["udp"], 16)
    tcp_echo_check(ports["tcp"], 8 * MIB)
    status, page = http_get(ports["http"])
    assert status == 200 and "virtio-os status" in page and "uptime:" in page, page
    assert re.search(r"eth0: link up, rx \d+ packets", page), page
    assert "virtio0 net" in page or "net" in page
    out = shell(vm, "ifconfig -v")
    c = counters(out)
    assert c["rx_packets"] > 5000 and c["tx_packets"] > 5000, out
    assert c["drop_too-long"] == 0 and c["drop_short-header"] == 0, out
    assert "mrg_rxbuf" in out and "event_idx" in out, out
    out = shell(vm, "netstat")
    assert "tcp echo: 1 connections, 8388608 bytes" in out, out
    assert "TCP" in out and "xmit" in out, out


def http_exchange(port, data, timeout=20):
    """Sends data on one connection to the guest's HTTP port; everything
    that comes back until the guest closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out


def http_answers(raw, heads_only=()):
    """Splits a connection's answers into (head, body) by Content-Length;
    answers whose index is in heads_only (to HEAD) have no body."""
    answers = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw
        head = head.decode()
        n = int(re.search(r"^Content-Length: (\d+)\r?$", head, re.M | re.I).group(1))
        if len(answers) in heads_only:
            n = 0
        answers.append((head, rest[:n]))
        raw = rest[n:]
    return answers


def http_accepted(vm):
    m = re.search(r"^http:.*\n  connections: .* accepted (\d+)", shell(vm, "netstat"), re.M)
    return int(m.group(1))


def test_net_http_keepalive(qemu):
    """Persistent connections (RFC 9112 9.3): five GETs and a HEAD on one
    HTTP/1.1 connection, each answer with Content-Length and Connection:
    keep-alive; two on an HTTP/1.0 connection that asks for keep-alive;
    an HTTP/1.0 one without is closed after its answer; three pipelined
    requests answered in order. The guest counts one connection each."""
    vm, ports = user_vm(qemu)
    port = ports["http"]
    http_get(port)  # the service is up
    before = http_accepted(vm)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    for _ in range(5):
        c.request("GET", "/")
        r = c.getresponse()
        body = r.read()
        assert r.status == 200 and r.version == 11, (r.status, r.version)
        assert r.getheader("Connection") == "keep-alive", r.getheaders()
        assert int(r.getheader("Content-Length")) == len(body) and b"virtio-os status" in body
    c.request("HEAD", "/")
    r = c.getresponse()
    assert r.status == 200 and int(r.getheader("Content-Length")) > 500 and r.read() == b""
    c.close()
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    for _ in range(2):
        s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        raw = b""
        while b"</html>" not in raw:
            d = s.recv(65536)
            assert d, f"HTTP/1.0 keep-alive connection closed: {raw!r}"
            raw += d
        (head, body), = http_answers(raw)
        assert head.startswith("HTTP/1.1 200 OK") and "Connection: keep-alive" in head, head
    s.close()
    (head, body), = http_answers(http_exchange(port, b"GET / HTTP/1.0\r\n\r\n"))
    assert "Connection: close" in head and b"virtio-os status" in body, head
    pipelined = (b"GET / HTTP/1.1\r\nHost: g\r\n\r\n"
                 b"HEAD /index.html HTTP/1.1\r\nHost: g\r\n\r\n"
                 b"GET /missing HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n")
    got = http_answers(http_exchange(port, pipelined), heads_only=(1,))
    assert [h.split("\r\n")[0] for h, _ in got] == [
        "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"], got
    assert b"virtio-os status" in got[0][1] and got[1][1] == b"", got
    assert "Connection: keep-alive" in got[1][0] and "Connection: close" in got[2][0], got
    assert http_accepted(vm) == before + 4, shell(vm, "netstat")


HTTP_ERRORS = [
    (b"FOO / HTTP/1.1\r\nHost: g\r\n\r\n", 501),
    (b"POST / HTTP/1.1\r\nHost: g\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: g\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX: " + b"b" * 3000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : g\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: g\r\n\r\n", 505),
    (b"GET /nope HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n", 404),
]


def test_net_http_errors(qemu):
    """Unknown method 501, POST 405 with Allow, an overlong request line
    414, an overlong head 431, no Host or a bad field 400, HTTP/2.0 505, an
    unknown path 404: each a complete answer (Content-Length, Connection:
    close) and the connection closed; then the page is still served."""
    vm, ports = user_vm(qemu)
    http_get(ports["http"])
    for req, status in HTTP_ERRORS:
        raw = http_exchange(ports["http"], req)
        (head, body), = http_answers(raw)
        assert head.startswith(f"HTTP/1.1 {status} "), (req[:40], raw)
        assert "Connection: close" in head and body.startswith(str(status).encode()), raw
        assert ("Allow: GET, HEAD" in head) == (status == 405), raw
    status, page = http_get(ports["http"])
    assert status == 200 and "virtio-os status" in page
    out = shell(vm, "netstat")
    assert re.search(r"http: \d+ answers: \d+ ok, 1 not found, 5 client errors, 2 server errors",
                     out), out


def test_net_iperf_client_to_host(qemu):
    """The guest's `iperf -c` (net/iperf_client.c) against a host `iperf
    -s` on 127.0.0.1, reached as 10.0.2.2: the command reports what the
    host acknowledged, and the host server's own report counts the same
    bytes (its KBytes are rounded). No speed is asserted."""
    vm, _ = user_vm(qemu)
    port = free_port()
    srv = subprocess.Popen(["iperf", "-s", "-B", "127.0.0.1", "-p", str(port), "-f", "k"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_listening(port)
        out = shell(vm, f"iperf -c 10.0.2.2 -p {port} -t 1", timeout=60)
    finally:
        time.sleep(0.5)
        srv.send_signal(signal.SIGINT)  # iperf 2 prints its report, then exits
        try:
            host = srv.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            srv.kill()
            host = srv.communicate()[0]
    m = re.search(r"iperf: (\d+) bytes to 10\.0\.2\.2 port (\d+) in (\d+) ms", out)
    assert m, out
    sent = int(m.group(1))
    assert int(m.group(2)) == port and sent > 24, out  # more than the header
    kbytes = [int(k) for k in re.findall(r"^\[\s*\d+\]\s+[\d.]+-\s*[\d.]+ sec\s+(\d+) KBytes",
                                         host, re.M)]
    assert len(kbytes) == 1, host
    assert abs(kbytes[0] * 1024 - sent) <= 1024, (out, host)
    closed = free_port()  # nothing listens there: the command must say so and fail
    out = shell(vm, f"iperf -c 10.0.2.2 -p {closed} -t 1")
    assert f"no connection to 10.0.2.2 port {closed}: refused" in out, out
    assert "failed (status 1)" in out, out


VARIANTS = [
    ("q35", "mrg_rxbuf=off", "header 12 bytes, rx buffers 256 x 1536"),
    ("q35", "csum=off,guest_csum=off", None),
    ("q35", "ctrl_vq=off", None),
    ("q35", "event_idx=off", None),
    ("q35", "indirect_desc=off", None),
    ("q35", "disable-legacy=on", "pci-modern"),
    ("pc", "disable-modern=on", "legacy"),
    ("pc", "disable-modern=on,mrg_rxbuf=off", "header 10 bytes"),
    ("q35", "vectors=0", "intx"),
    ("q35", "disable-legacy=on,packed=on", "ring=packed"),
    ("q35", "packed=on", "ring=packed"),
    ("microvm", None, "mmio"),
]


@pytest.mark.parametrize("machine,props,expect", VARIANTS,
                         ids=[f"{m}-{p or 'mmio'}" for m, p, _ in VARIANTS])
def test_net_variants(qemu, machine, props, expect):
    """The same traffic checks on every feature combination and transport
    (512 KiB TCP echo to keep the time down)."""
    if props is None:
        device = "virtio-net-device,netdev=n0"
    else:
        device = f"virtio-net-pci,netdev=n0,{props}"
    vm, ports = user_vm(qemu, device=device, machine=machine)
    out = shell(vm, "ping 10.0.2.2 1")
    assert "1 received" in out, out
    udp_echo_check(ports["udp"], 8)
    tcp_echo_check(ports["tcp"], 512 * 1024)
    out = shell(vm, "ifconfig -v")
    if expect:  # in `ifconfig -v`, or in the boot lines (the ring layout)
        assert expect in vm.log, out
    feats = re.search(r"features 0x[0-9a-f]+:(.*)", out).group(1).split()
    for prop, name in (("mrg_rxbuf=off", "mrg_rxbuf"), ("ctrl_vq=off", "ctrl_vq"),
                       ("event_idx=off", "event_idx"), ("indirect_desc=off", "indirect")):
        if props and prop in props:
            assert name not in feats, out
    c = counters(out)
    assert c["drop_too-long"] == 0 and c["drop_short-header"] == 0, out


def test_net_link_status(qemu, tmp_path):
    """set_link off/on through QMP: the config interrupt reports the link,
    transmit is refused while down, and traffic resumes when up."""
    sock = str(tmp_path / "qmp.sock")
    vm, ports = user_vm(qemu, extra=["-qmp", f"unix:{sock},server=on,wait=off"])
    tcp_echo_check(ports["tcp"], 256 * 1024)
    assert qmp(sock, {"execute": "set_link", "arguments": {"name": "n0", "up": False}}) == \
        [{"return": {}}]
    vm.expect_exact("eth0: link down", timeout=10)
    out = shell(vm, "ping 10.0.2.2 1")
    assert "0 received" in out, out
    out = shell(vm, "ifconfig")
    assert "link down" in out and "link changes 1" in out, out
    qmp(sock, {"execute": "set_link", "arguments": {"name": "n0", "up": True}})
    vm.expect_exact("eth0: link up", timeout=10)
    out = shell(vm, "ping 10.0.2.2 2")
    assert "2 received" in out, out
    tcp_echo_check(ports["tcp"], 512 * 1024)
    udp_echo_check(ports["udp"], 4)


def dgram(local, remote):
    return ["-netdev", f"dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port={local},"
            f"remote.type=inet,remote.host=127.0.0.1,remote.port={remote}"]


def test_net_two_guests(qemu):
    """Two guests on a point-to-point dgram link with static addresses:
    they ping each other and each runs 8 MiB of TCP echo against the
    other's echo service, verified in the guest."""
    pa, pb = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    a = qemu(machine="q35", kernel=KERNEL, append="ip=192.168.77.1/24,gw=192.168.77.2",
             devices=dgram(pa, pb) + ["-device", "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:01"],
             timeout=120, name="guest-a")
    b = qemu(machine="q35", kernel=KERNEL, append="ip=192.168.77.2/24",
             devices=dgram(pb, pa) + ["-device", "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:02"],
             timeout=120, name="guest-b")
    wait_address(a, "192.168.77.1")
    wait_address(b, "192.168.77.2")
    time.sleep(0.5)
    out = shell(a, "ping 192.168.77.2 3")
    assert "3 received" in out, out
    out = shell(b, "ping 192.168.77.1 2")
    assert "2 received" in out, out
    out = shell(a, "nettest tcp 192.168.77.2 8388608", timeout=100)
    assert "tcp 8388608 bytes echoed and verified" in out, out
    out = shell(b, "nettest tcp 192.168.77.1 8388608", timeout=100)
    assert "tcp 8388608 bytes echoed and verified" in out, out


def wait_counters(vm, want, timeout=15):
    """`ifconfig` until every counter in `want` has its value (frames from
    the peer reach the guest asynchronously); returns the last counters,
    with rx_bytes, and the output."""
    deadline = time.monotonic() + timeout
    while True:
        out = shell(vm, "ifconfig")
        c = counters(out)
        c["rx_bytes"] = int(re.search(r"rx packets \d+ bytes (\d+)", out).group(1))
        if all(c[k] == v for k, v in want.items()) or time.monotonic() > deadline:
            return c, out
        time.sleep(0.3)


DROPS = ("drop_too-long", "drop_short-header", "drop_runt", "drop_bad-merge", "drop_bad-csum",
         "drop_no-memory", "drop_link-down")


def test_net_bad_frames(qemu):
    """A raw peer on the dgram link sends frames beyond the maximum and runts.

    QEMU 7.2 hands them to the guest as they are: neither the dgram backend
    nor virtio-net pads a short frame to 60 bytes (a 14-byte frame arrives
    as 14 bytes: rx_bytes below). So each oversized frame is exactly one
    too-long drop and each runt exactly one runt drop, none reaches the
    stack, the largest allowed frame and a 14-byte one do, and the guest
    still answers ARP + ICMP. The drops a misbehaving device would cause
    (short header, bad num_buffers, bad checksum offset, a used length
    beyond the buffer) QEMU never produces: test/host/test_net_rx.c."""
    qport = free_port(socket.SOCK_DGRAM)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(0.5)
    guest_mac = "52:54:00:77:00:09"
    vm = qemu(machine="q35", kernel=KERNEL, append="ip=192.168.78.1/24",
              devices=dgram(qport, peer.getsockname()[1]) +
              ["-device", f"virtio-net-pci,netdev=n0,mac={guest_mac}"], timeout=90)
    wait_address(vm, "192.168.78.1")
    gmac, pmac = mac_bytes(guest_mac), mac_bytes("52:54:00:77:00:0a")
    bcast = b"\xff" * 6
    dst = ("127.0.0.1", qport)
    # IEEE local experimental EtherType: lwIP ignores what reaches it.
    ether = b"\x88\xb5"
    c0, out = wait_counters(vm, {})
    assert c0["rx_packets"] == 0 and all(c0[d] == 0 for d in DROPS), out

    # Beyond the 1518-byte maximum (14 + MTU 1500 + a VLAN tag).
    for size in (1519, 3000, 9000, 20000):
        peer.sendto(gmac + pmac + ether + os.urandom(size - 14), dst)
    c1, out = wait_counters(vm, {"drop_too-long": 4})
    assert c1["drop_too-long"] == 4, out
    assert c1["rx_packets"] == 0 and c1["rx_bytes"] == 0, out
    assert all(c1[d] == 0 for d in DROPS if d != "drop_too-long"), out

    # The largest allowed frame and a bare Ethernet header reach the stack,
    # unpadded.
    for size in (1518, 14):
        peer.sendto(gmac + pmac + ether + os.urandom(size - 14), dst)
    c2, out = wait_counters(vm, {"rx_packets": 2})
    assert c2["rx_packets"] == 2 and c2["rx_bytes"] == 1518 + 14, out
    assert all(c2[d] == c1[d] for d in DROPS), out

    # Runts. Broadcast-addressed: QEMU's receive filter (the guest turned
    # promiscuous mode off) compares 6 destination bytes even when the frame
    # is shorter, reading stale buffer bytes; a group address is accepted
    # whatever follows it (all-multicast is on). Never a 0-byte datagram:
    # QEMU's dgram backend takes it for end of file and stops receiving.
    for size in (1, 6, 13):
        peer.sendto((bcast + pmac + ether)[:size], dst)
    c3, out = wait_counters(vm, {"drop_runt": 3})
    assert c3["drop_runt"] == 3, out
    assert c3["rx_packets"] == 2 and c3["rx_bytes"] == c2["rx_bytes"], out
    assert all(c3[d] == c2[d] for d in DROPS if d != "drop_runt"), out

    # Still alive: answer its ARP request and get the echo reply.
    deadline = time.monotonic() + 20
    seq, replied = 0, False
    while not replied and time.monotonic() < deadline:
        seq += 1
        peer.sendto(icmp_echo(pmac, "192.168.78.2", gmac, "192.168.78.1", 0x77, seq), dst)
        end = time.monotonic() + 1
        while time.monotonic() < end:
            try:
                frame, _ = peer.recvfrom(65536)
            except socket.timeout:
                break
            if frame[12:14] == b"\x08\x06" and frame[21] == 1:  # ARP request
                peer.sendto(arp_reply(pmac, "192.168.78.2", gmac, "192.168.78.1"), dst)
            elif frame[12:14] == b"\x08\x00" and frame[23] == 1 and frame[34] == 0:
                replied = True
                break
    assert replied, "no ICMP echo reply after the bad frames"
    c4, out = wait_counters(vm, {})
    assert c4["rx_packets"] >= 4, out  # at least the ARP reply and one echo request
    assert all(c4[d] == c3[d] for d in DROPS), out
    peer.close()


def test_ctrl_c_stops_ping_and_nettest(qemu):
    """Ctrl-C (0x03 on the serial line) stops a running command: a 1000-ping
    run (about four minutes) after two replies, and a TCP transfer to a host
    server that accepts and never echoes, which without Ctrl-C waits five
    minutes. Each says it was interrupted, and the shell then runs the next
    line as typed: the Ctrl-C is not left over to abandon it."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    try:
        vm, _ = user_vm(qemu)
        vm.sendline("ping 10.0.2.2 1000")
        for _ in range(2):
            vm.expect(r"bytes from 10\.0\.2\.2: icmp_seq=\d+", timeout=20)
        vm.send("\x03")
        vm.expect_exact("^C ping: interrupted", timeout=10)
        vm.expect_exact(PROMPT)
        log = vm.log.replace("\r", "")
        m = re.search(r"(\d+) packets transmitted, (\d+) received", log)
        assert m and 2 <= int(m.group(1)) < 40, m and m.group(0)

        vm.sendline(f"nettest tcp 10.0.2.2 1000000 {port}")
        conn, _ = silent.accept()  # the guest connected; never read, never echo
        time.sleep(1)
        vm.send("\x03")
        vm.expect(r"nettest: tcp stopped by Ctrl-C: 0 of 1000000 bytes verified", timeout=15)
        vm.expect_exact("^C nettest: interrupted", timeout=5)
        vm.expect_exact(PROMPT)
        out = shell(vm, "uptime")
        assert re.search(r"up \d+", out), out
        conn.close()
    finally:
        silent.close()
