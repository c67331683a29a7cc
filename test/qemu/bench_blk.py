#!/usr/bin/env python3
"""`make bench-blk`: run bench=blk (drivers/virtio_blk_bench.c) in QEMU (TCG)
against a raw image file and against the null-co backend, and print a table.

Figures only: the exit status is non-zero only when a run did not finish.
"""

import argparse
import os
import re
import subprocess
import sys

RESULT = re.compile(r"^bench: blk result (\S+) qd=(\d+) iops=(\d+) mbps10=(\d+) "
                    r"irq_per_req100=(\d+) lat_us=(\d+) errors=(\d+)", re.M)


def run(kernel, drive, ms, timeout):
    args = ["qemu-system-x86_64", "-M", "q35", "-m", "256M", "-accel", "tcg",
            "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", f"bench=blk bench.blk_ms={ms}",
            "-drive", drive + ",if=none,id=d0", "-device", "virtio-blk-pci,drive=d0"]
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
    results, failed = {}, False
    for label, drive in backends:
        status, log = run(opts.kernel, drive, opts.ms, timeout=60 + opts.ms * 6 // 1000 * 2)
        if status != 33:
            print(f"bench-blk: {label}: QEMU exit status {status} (expected 33)\n{log[-3000:]}")
            failed = True
            continue
        for m in RESULT.finditer(log):
            results[(label, m.group(1), m.group(2))] = m.groups()[2:]

    print(f"\nvirtio-blk, TCG, {opts.ms} ms per test; MB/s in 10^6 bytes/s")
    hdr = f"{'backend':9s} {'test':14s} {'qd':>3s} {'IOPS':>8s} {'MB/s':>8s} {'irq/req':>8s} " \
          f"{'lat us':>7s} {'errors':>6s}"
    print(hdr)
    print("-" * len(hdr))
    for (label, name, qd), (iops, mbps10, ipr100, lat, errors) in results.items():
        print(f"{label:9s} {name:14s} {qd:>3s} {int(iops):8d} {int(mbps10) / 10:8.1f} "
              f"{int(ipr100) / 100:8.2f} {int(lat):7d} {int(errors):6d}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
