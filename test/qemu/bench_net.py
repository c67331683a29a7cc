"""make bench-net: TCP throughput host -> guest (host iperf 2 client
against the guest's lwiperf on port 5001, through QEMU user networking
hostfwd) and guest -> host (the guest's `iperf -c` against a host `iperf
-s`, reached as 10.0.2.2), and UDP packets/s from the guest to a host
socket. TCG, figures only.

Only 127.0.0.1 is ever contacted, except by the tap rows: with root (ip
netns, a tap), guest -> Linux TCP throughput over a tap inside a network
namespace the benchmark creates and deletes, with transmit checksum
offload (VIRTIO_NET_F_CSUM, csum=on) and without (csum=off); the guest's
`iperf -c` against `iperf -s` in the namespace, several runs each.
The HTTP rows, also over a tap in a namespace of its own: ApacheBench
(`ab`, apache2-utils) against the guest's status page, requests/s without
keep-alive (a connection per request) and with it. --http-only runs just
those. Without root or namespaces those rows are skipped with the reason."""

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qemu import Qemu  # noqa: E402
from net_helpers import (NsQemu, free_port, shell, user_netdev, wait_address,  # noqa: E402
                         wait_listening)

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


def wait_listening_ns(ns, addr, port, timeout=10):
    """wait_listening() for a server at addr:port inside namespace ns."""
    want = f"{socket.inet_aton(addr)[::-1].hex().upper()}:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tcp = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/tcp"],
                             stdout=subprocess.PIPE, text=True, timeout=10).stdout
        for line in tcp.splitlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":  # TCP_LISTEN
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {addr}:{port} in {ns} after {timeout} s")


def guest_to_host(vm, bind="127.0.0.1", target="10.0.2.2", ns=None):
    """The guest's `iperf -c` (net/iperf_client.c) -> a host `iperf -s`
    on 127.0.0.1, which the guest reaches as 10.0.2.2 (slirp's alias for
    the host's loopback); or, with `ns`, on `bind` inside that namespace,
    reached as `target`. The figure is the host server's own report.

    Not `iperf -c ... -r` against lwiperf: lwiperf 2.1.3 aborts an iperf
    2.1 client's stream when it asks for the reverse leg (it expects iperf
    2.0's header layout), so the reverse connection rarely happened; see
    net/iperf_client.c."""
    port = free_port()
    prefix = ["ip", "netns", "exec", ns] if ns else []
    srv = subprocess.Popen(prefix + ["iperf", "-s", "-B", bind, "-p", str(port), "-f", "m"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if ns:
            wait_listening_ns(ns, bind, port)
        else:
            wait_listening(port)
        guest = shell(vm, f"iperf -c {target} -p {port} -t {SECONDS}", timeout=SECONDS + 60)
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


# Figures vary more between boots than between runs of one boot, so the
# two settings take turns: TAP_BOOTS boots each, TAP_RUNS runs per boot.
TAP_HOST, TAP_GUEST, TAP_BOOTS, TAP_RUNS = "10.199.0.1", "10.199.0.2", 3, 2


def vcpu_seconds(pid):
    """CPU time QEMU's TCG vCPU thread has used: the guest's own work
    (a halted guest's vCPU thread sleeps). Threads are named with
    -name debug-threads=on."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            if not f.read().startswith("CPU 0/TCG"):
                continue
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


class TapNamespace:
    """A network namespace with a tap vtap0 at TAP_HOST/24, deleted on exit;
    `skip` holds the reason when one cannot be made (not root, no tun)."""

    def __init__(self):
        self.name, self.skip = "vos-bench-" + uuid.uuid4().hex[:8], None

    def __enter__(self):
        if os.geteuid() != 0:
            self.skip = "skipped: needs root for ip netns and a tap"
            return self
        if not os.path.exists("/dev/net/tun"):
            self.skip = "skipped: no /dev/net/tun"
            return self
        r = subprocess.run(["ip", "netns", "add", self.name], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            self.skip = f"skipped: ip netns add refused: {r.stdout.strip()}"
            self.name = None
            return self
        for cmd in (("ip", "tuntap", "add", "dev", "vtap0", "mode", "tap"),
                    ("ip", "addr", "add", f"{TAP_HOST}/24", "dev", "vtap0"),
                    ("ip", "link", "set", "vtap0", "up"), ("ip", "link", "set", "lo", "up")):
            r = subprocess.run(["ip", "netns", "exec", self.name, *cmd], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                self.skip = f"skipped: {' '.join(cmd)} refused: {r.stdout.strip()}"
                break
        return self

    def __exit__(self, *exc):
        if self.name:
            subprocess.run(["ip", "netns", "del", self.name])

    def vm(self, kernel, devices, timeout):
        return NsQemu(self.name, machine="q35", kernel=kernel, append=f"ip={TAP_GUEST}/24",
                      devices=devices + ["-netdev", "tap,id=n0,ifname=vtap0,script=no,"
                                         "downscript=no,vhost=off"], timeout=timeout)


def tap_offload(kernel):
    """Guest -> Linux TCP over a tap, csum=on vs csum=off: a list of
    (csum, [(Mbit/s, vCPU ms per MB) per run], frames sent partial), or a
    reason to skip."""
    with TapNamespace() as ns:
        if ns.skip:
            return ns.skip
        rows = {"on": ([], []), "off": ([], [])}
        for csum in ("on", "off") * TAP_BOOTS:
            vm = ns.vm(kernel, ["-name", "bench,debug-threads=on",
                                "-device", f"virtio-net-pci,netdev=n0,csum={csum}"],
                       timeout=60 + TAP_RUNS * (SECONDS + 30))
            vm.start()
            try:
                wait_address(vm, TAP_GUEST)
                runs = []
                for _ in range(TAP_RUNS):
                    cpu = vcpu_seconds(vm.child.pid)
                    rate = guest_to_host(vm, TAP_HOST, TAP_HOST, ns.name)
                    cpu = vcpu_seconds(vm.child.pid) - cpu if cpu is not None else None
                    mb = float(rate.split()[0]) * SECONDS / 8 if rate[0].isdigit() else 0
                    runs.append((rate, cpu * 1000 / mb if cpu is not None and mb else None))
                m = re.search(r"tx checksum offload \w+: partial (\d+)", shell(vm, "ifconfig"))
            finally:
                vm.close()
            rows[csum][0].extend(runs)
            rows[csum][1].append(m.group(1) if m else "?")
        return [(csum, runs, "/".join(partial)) for csum, (runs, partial) in rows.items()]


# HTTP requests/s with ApacheBench against the guest's status page, over
# the tap: (label, ab options). -l: the page's length varies (its uptime),
# which ab would otherwise count as failed requests. Not keep-alive, each request is a connection
# of its own (the guest's HTTP pool holds 48, its backlog 16 more: at -c 100
# the rest wait for SYN retries); keep-alive (-k), many requests on each.
HTTP_RUNS = [("no keep-alive, -c 1", ["-n", "3000", "-c", "1"]),
             ("no keep-alive, -c 100", ["-n", "10000", "-c", "100"]),
             ("keep-alive, -k -c 1", ["-n", "5000", "-k", "-c", "1"]),
             ("keep-alive, -k -c 20", ["-n", "20000", "-k", "-c", "20"])]


def http_rps(kernel):
    """[(label, requests/s, complete, failed, non-2xx, keep-alive requests)]
    or a reason to skip."""
    with TapNamespace() as ns:
        if ns.skip:
            return ns.skip
        vm = ns.vm(kernel, ["-device", "virtio-net-pci,netdev=n0"], timeout=600)
        vm.start()
        rows = []
        try:
            wait_address(vm, TAP_GUEST)
            for label, opts in HTTP_RUNS:
                r = subprocess.run(["ip", "netns", "exec", ns.name, "ab", "-q", "-l", "-s", "30",
                                    *opts, f"http://{TAP_GUEST}/"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, timeout=300)

                def field(name, text=r.stdout):
                    m = re.search(rf"^{name}:\s+([\d.]+)", text, re.M)
                    return m.group(1) if m else "n/a"
                rps = field("Requests per second")
                if rps == "n/a":
                    rps = f"n/a ({last_line(r.stdout)})"
                non2xx = field("Non-2xx responses")
                rows.append((label, rps, field("Complete requests"), field("Failed requests"),
                             "0" if non2xx == "n/a" else non2xx, field("Keep-Alive requests")))
        finally:
            vm.close()
        return rows


def print_http(kernel):
    rows = http_rps(kernel)
    print("bench-net http: ApacheBench (ab) in a network namespace -> the guest's status page "
          "over a tap (virtio-net-pci, vhost=off, TCG)")
    if isinstance(rows, str):
        print(f"  {rows}")
        return
    for label, rps, complete, failed, non2xx, keep in rows:
        print(f"  {label:24s} {rps:>10s} requests/s  ({complete} complete, failed {failed}, "
              f"non-2xx {non2xx}, keep-alive {keep})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--http-only", action="store_true",
                    help="only the HTTP requests/s rows (ab over a tap)")
    a = ap.parse_args()
    if a.http_only:
        print_http(a.kernel)
        return
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
    print_http(a.kernel)
    tap = tap_offload(a.kernel)
    print(f"bench-net tap: guest `iperf -c` -> Linux `iperf -s` over a tap in a network "
          f"namespace (virtio-net-pci, vhost=off), {SECONDS} s per run, {TAP_RUNS} runs in each "
          f"of {TAP_BOOTS} boots per setting, the settings alternating")
    if isinstance(tap, str):
        print(f"  {tap}")
        return
    print("  (guest CPU: the QEMU vCPU thread's CPU time per MB sent, which the rate hides "
          "when the 64 KiB window, not the guest, is the limit)")
    for csum, runs, partial in tap:
        vals = [float(r.split()[0]) for r, _ in runs if r[0].isdigit()]
        cpus = [c for _, c in runs if c is not None]
        med = f"median {statistics.median(vals):.0f} Mbit/s" if vals else "no result"
        if cpus:
            med += f", guest CPU median {statistics.median(cpus):.2f} ms/MB"
        print(f"  csum={csum:3s}: {', '.join(r for r, _ in runs)}; {med}; "
              f"frames sent partial per boot: {partial}")
        print(f"           guest CPU ms/MB per run: "
              f"{', '.join(f'{c:.2f}' if c is not None else 'n/a' for _, c in runs)}")


if __name__ == "__main__":
    main()
