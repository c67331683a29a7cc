"""make bench-net: host iperf (version 2) against the guest's lwiperf
(port 5001) through QEMU user networking hostfwd, both directions, and
UDP packets/s from the guest to a host socket. TCG, figures only.

Only 127.0.0.1 is ever contacted."""

import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qemu import Qemu  # noqa: E402
from net_helpers import free_port, shell, user_netdev, wait_address  # noqa: E402

SECONDS = 5


LISTEN_PORT = 5001  # where the iperf client listens for lwiperf's -r leg


def iperf_legs(text):
    """iperf 2's client output as {(local_port, peer_port): "N Mbit/s"}.

    Each leg has its own id: a `[ id] local A port P connected with B port
    Q` line, then its `[ id] 0.0000-5.0 sec ... N Mbits/sec` result (the
    server side marks reverse legs `[ *id]`). With -r the client prints two:
    its own connection to the server's port (host -> guest), then the one
    it accepted on its -L port (guest -> host). Their order on the screen
    is not a contract, and a missing second leg would leave the first one's
    line last, so legs are told apart by their ports, never by position."""
    ports, rates = {}, {}
    for lid, lport, pport in re.findall(
            r"^\[\s*\*?(\d+)\] local \S+ port (\d+) connected with \S+ port (\d+)", text,
            re.M):
        ports[lid] = (int(lport), int(pport))
    for lid, rate in re.findall(r"^\[\s*\*?(\d+)\]\s+[\d.]+-\s*[\d.]+ sec .* ([\d.]+) Mbits/sec",
                                text, re.M):
        rates[lid] = rate + " Mbit/s"  # the last report of a leg is its total
    return {ports[lid]: rate for lid, rate in rates.items() if lid in ports}


def iperf(port, reverse):
    # Host to guest: the client's connection to the hostfwd port.
    # Guest to host: iperf's tradeoff mode (-r): after the host->guest run,
    # lwiperf connects back to the client's address (10.0.2.2 as the guest
    # sees it, which slirp maps to the host's 127.0.0.1) on LISTEN_PORT,
    # where the iperf client listens; that leg is the one whose local port
    # is LISTEN_PORT.
    args = ["iperf", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECONDS), "-f", "m"]
    if reverse:
        args += ["-r", "-L", str(LISTEN_PORT)]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=SECONDS * 2 + 30)
    legs = iperf_legs(r.stdout)
    if reverse:
        want = [rate for (lport, _), rate in legs.items() if lport == LISTEN_PORT]
    else:
        want = [rate for (_, pport), rate in legs.items() if pport == port]
    if len(want) == 1:
        return want[0]
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else "no output"
    return f"n/a ({len(want)} matching legs; {last})"


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
                        "virtio-net-pci,netdev=n0,mrg_rxbuf=off,event_idx=off")):
        port = free_port()
        vm = Qemu(machine="q35", kernel=a.kernel, append="",
                  devices=user_netdev([("tcp", port, 5001)]) + ["-device", dev], timeout=180)
        vm.start()
        try:
            wait_address(vm)
            up = iperf(port, False)
            down = iperf(port, True)
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
