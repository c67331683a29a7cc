"""make bench-net: TCP throughput host -> guest (host iperf 2 client
against the guest's lwiperf on port 5001, through QEMU user networking
hostfwd) and guest -> host (the guest's `iperf -c` against a host `iperf
-s`, reached as 10.0.2.2), and UDP packets/s from the guest to a host
socket. TCG, figures only.

Only 127.0.0.1 is ever contacted."""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qemu import Qemu  # noqa: E402
from net_helpers import free_port, shell, user_netdev, wait_address, wait_listening  # noqa: E402

SECONDS = 5


def iperf_legs(text):
    """iperf 2's output as {(local_port, peer_port): "N Mbit/s"}.

    Each leg has its own id: a `[ id] local A port P connected with B port
    Q` line, then its `[ id] 0.0000-5.0 sec ... N Mbits/sec` result (a
    server marks reverse legs `[ *id]`). Legs are told apart by their
    ports, never by their position on the screen."""
    ports, rates = {}, {}
    for lid, lport, pport in re.findall(
            r"^\[\s*\*?(\d+)\] local \S+ port (\d+) connected with \S+ port (\d+)", text,
            re.M):
        ports[lid] = (int(lport), int(pport))
    for lid, rate in re.findall(r"^\[\s*\*?(\d+)\]\s+[\d.]+-\s*[\d.]+ sec .* ([\d.]+) Mbits/sec",
                                text, re.M):
        rates[lid] = rate + " Mbit/s"  # the last report of a leg is its total
    return {ports[lid]: rate for lid, rate in rates.items() if lid in ports}


def last_line(text):
    return text.strip().splitlines()[-1] if text.strip() else "no output"


def host_to_guest(port):
    """Host iperf client -> lwiperf (guest port 5001) through hostfwd."""
    args = ["iperf", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECONDS), "-f", "m"]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=SECONDS + 30)
    want = [rate for (_, pport), rate in iperf_legs(r.stdout).items() if pport == port]
    if len(want) == 1:
        return want[0]
    return f"n/a ({len(want)} matching legs; {last_line(r.stdout)})"


def guest_to_host(vm):
    """The guest's `iperf -c` (net/iperf_client.c) -> a host `iperf -s`
    on 127.0.0.1, which the guest reaches as 10.0.2.2 (slirp's alias for
    the host's loopback). The figure is the host server's own report.

    Not `iperf -c ... -r` against lwiperf: lwiperf 2.1.3 aborts an iperf
    2.1 client's stream when it asks for the reverse leg (it expects iperf
    2.0's header layout), so the reverse connection rarely happened; see
    net/iperf_client.c."""
    port = free_port()
    srv = subprocess.Popen(["iperf", "-s", "-B", "127.0.0.1", "-p", str(port), "-f", "m"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_listening(port)
        guest = shell(vm, f"iperf -c 10.0.2.2 -p {port} -t {SECONDS}", timeout=SECONDS + 60)
    finally:
        time.sleep(0.5)
        srv.send_signal(signal.SIGINT)  # iperf 2 prints what it has, then exits
        try:
            out = srv.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            srv.kill()
            out = srv.communicate()[0]
    m = re.search(r"iperf: (\d+) bytes .* (\d+) kbit/s", guest)
    want = [rate for (lport, _), rate in iperf_legs(out).items() if lport == port]
    if m and len(want) == 1:
        return want[0]
    return f"n/a (guest: {last_line(guest)}; host: {last_line(out)})"


def udp_pps(vm, count=20000, size=64):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    got = [0]
    stop = [False]

    def rx():
        while not stop[0]:
            try:
                sock.recvfrom(2048)
                got[0] += 1
            except socket.timeout:
                pass

    t = threading.Thread(target=rx, daemon=True)
    t.start()
    out = shell(vm, f"nettest udp 10.0.2.2:{sock.getsockname()[1]} {count} {size}", timeout=90)
    time.sleep(1)
    stop[0] = True
    t.join()
    sock.close()
    m = re.search(r"(\d+) packets/s", out)
    return (m.group(1) if m else "n/a"), got[0], count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    a = ap.parse_args()
    rows = []
    for label, dev in (("virtio-net-pci (modern, MSI-X, mrg_rxbuf, event_idx)",
                        "virtio-net-pci,netdev=n0"),
                       ("virtio-net-pci mrg_rxbuf=off,event_idx=off",
                        "virtio-net-pci,netdev=n0,mrg_rxbuf=off,event_idx=off"),
                       ("virtio-net-pci packed=on (modern, packed ring)",
                        "virtio-net-pci,netdev=n0,disable-legacy=on,packed=on")):
        port = free_port()
        vm = Qemu(machine="q35", kernel=a.kernel, append="",
                  devices=user_netdev([("tcp", port, 5001)]) + ["-device", dev], timeout=180)
        vm.start()
        try:
            wait_address(vm)
            up = host_to_guest(port)
            down = guest_to_host(vm)
            pps, got, sent = udp_pps(vm)
        finally:
            vm.close()
        rows.append((label, up, down, f"{pps} pps ({got}/{sent} reached the host)"))
    print("bench-net: QEMU TCG, -M q35 -m 256M, -netdev user (slirp) with hostfwd to 127.0.0.1;"
          f" iperf 2, {SECONDS} s per direction; UDP 64-byte datagrams")
    print(f"{'device':58s} {'host->guest TCP':>18s} {'guest->host TCP':>28s}  guest->host UDP")
    for r in rows:
        print(f"{r[0]:58s} {r[1]:>18s} {r[2]:>28s}  {r[3]}")


if __name__ == "__main__":
    main()
