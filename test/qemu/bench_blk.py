#!/usr/bin/env python3
"""`make bench-blk`: run bench=blk (drivers/virtio_blk_bench.c) in QEMU (TCG)
against a raw image file and against the null-co backend, and print a table.
Each backend runs twice, with the split ring (packed=off) and the packed ring
(packed=on, virtio 1.2 section 2.8); the table shows both IOPS side by side.

Figures only: the exit status is non-zero only when a run did not finish.
"""

import argparse
import os
import re
import subprocess
import sys

RESULT = re.compile(r"^bench: blk result (\S+) qd=(\d+) iops=(\d+) mbps10=(\d+) "
                    r"irq_per_req100=(\d+) lat_us=(\d+) errors=(\d+)", re.M)


def run(kernel, drive, ms, timeout, packed=False):
    args = ["qemu-system-x86_64", "-M", "q35", "-m", "256M", "-accel", "tcg",
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", f"bench=blk bench.blk_ms={ms}",
            "-drive", drive + ",if=none,id=d0",
            "-device", "virtio-blk-pci,drive=d0,packed=" + ("on" if packed else "off")]
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace", timeout=timeout)
    return proc.returncode, proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="build/kernel.elf")
    ap.add_argument("--image", default="build/bench-blk.img")
    ap.add_argument("--ms", type=int, default=1500, help="milliseconds per test")
    opts = ap.parse_args()

    os.makedirs(os.path.dirname(opts.image) or ".", exist_ok=True)
    with open(opts.image, "wb") as f:  # sparse: reads of holes cost no disk I/O
        f.truncate(256 * 1024 * 1024)
    backends = [
        ("raw file", f"file={opts.image},format=raw,cache=writeback"),
        ("null-co", "driver=null-co,size=1G,read-zeroes=on"),
    ]
    results, packed, failed = {}, {}, False
    for label, drive in backends:
        for ring in ("split", "packed"):
            status, log = run(opts.kernel, drive, opts.ms, timeout=60 + opts.ms * 6 // 1000 * 2,
                              packed=ring == "packed")
            if status != 33:
                print(f"bench-blk: {label} ({ring}): QEMU exit status {status} "
                      f"(expected 33)\n{log[-3000:]}")
                failed = True
                continue
            if ring == "packed" and not re.search(r"virtio-blk driver bound .* ring=packed", log):
                print(f"bench-blk: {label}: packed=on but the kernel did not use a packed ring")
                failed = True
                continue
            for m in RESULT.finditer(log):
                key = (label, m.group(1), m.group(2))
                if ring == "split":
                    results[key] = m.groups()[2:]
                else:
                    packed[key] = int(m.group(3))

    print(f"\nvirtio-blk, TCG, {opts.ms} ms per test; MB/s in 10^6 bytes/s")
    print("IOPS .. errors: split ring; IOPS packed, packed/split: the same test, packed=on")
    hdr = f"{'backend':9s} {'test':14s} {'qd':>3s} {'IOPS':>8s} {'MB/s':>8s} {'irq/req':>8s} " \
          f"{'lat us':>7s} {'errors':>6s} {'IOPS packed':>11s} {'pk/split':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for (label, name, qd), (iops, mbps10, ipr100, lat, errors) in results.items():
        pk = packed.get((label, name, qd))
        ratio = f"{pk / int(iops):8.3f}" if pk is not None and int(iops) else f"{'-':>8s}"
        print(f"{label:9s} {name:14s} {qd:>3s} {int(iops):8d} {int(mbps10) / 10:8.1f} "
              f"{int(ipr100) / 100:8.2f} {int(lat):7d} {int(errors):6d} "
              f"{pk if pk is not None else '-':>11} {ratio}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
