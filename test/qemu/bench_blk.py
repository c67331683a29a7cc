#!/usr/bin/env python3
"""`make bench-blk`: run bench=blk (test/kernel/blk_bench.c) in QEMU (TCG)
against a raw image file and against the null-co backend, and print a table.
Each backend runs with the split ring (packed=off) and the packed ring
(packed=on, virtio 1.2 section 2.8); the table shows both IOPS side by side.
Every configuration runs --runs times (default 3, split and packed
alternating so slow drift on a shared machine hits both alike); the table
shows the median run of each test and the range of its IOPS.

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
    ap.add_argument("--runs", type=int, default=3, help="runs of each configuration")
    opts = ap.parse_args()

    os.makedirs(os.path.dirname(opts.image) or ".", exist_ok=True)
    with open(opts.image, "wb") as f:  # sparse: reads of holes cost no disk I/O
        f.truncate(256 * 1024 * 1024)
    backends = [
        ("raw file", f"file={opts.image},format=raw,cache=writeback"),
        ("null-co", "driver=null-co,size=1G,read-zeroes=on"),
    ]
    samples, failed = {}, False  # (label, test, qd, ring) -> [result tuples]
    for _ in range(opts.runs):
        for label, drive in backends:
            for ring in ("split", "packed"):
                status, log = run(opts.kernel, drive, opts.ms,
                                  timeout=60 + opts.ms * 6 // 1000 * 2, packed=ring == "packed")
                if status != 33:
                    print(f"bench-blk: {label} ({ring}): QEMU exit status {status} "
                          f"(expected 33)\n{log[-3000:]}")
                    failed = True
                    continue
                if ring == "packed" and not re.search(r"virtio-blk driver bound .* ring=packed",
                                                      log):
                    print(f"bench-blk: {label}: packed=on but the kernel did not use a packed "
                          "ring")
                    failed = True
                    continue
                for m in RESULT.finditer(log):
                    key = (label, m.group(1), m.group(2), ring)
                    samples.setdefault(key, []).append(tuple(int(x) for x in m.groups()[2:]))

    def median_run(key):
        """The run with the median IOPS (its other columns come with it),
        and the IOPS range over all runs."""
        runs = sorted(samples.get(key, []))
        if not runs:
            return None, ""
        return runs[(len(runs) - 1) // 2], f"{runs[0][0]}-{runs[-1][0]}"

    print(f"\nvirtio-blk, TCG, {opts.ms} ms per test, median of {opts.runs} runs; "
          "MB/s in 10^6 bytes/s")
    print("IOPS .. errors: split ring (range: lowest-highest IOPS of the runs); "
          "packed: the same test with packed=on")
    hdr = f"{'backend':9s} {'test':14s} {'qd':>3s} {'IOPS':>8s} {'range':>13s} {'MB/s':>8s} " \
          f"{'irq/req':>7s} {'lat us':>7s} {'errors':>6s} {'packed':>8s} {'range':>13s} " \
          f"{'pk/split':>8s}"
    print(hdr)
    print("-" * len(hdr))
    for key in [k for k in samples if k[3] == "split"]:
        label, name, qd, _ = key
        split, split_range = median_run(key)
        pk, pk_range = median_run((label, name, qd, "packed"))
        iops, mbps10, ipr100, lat, errors = split
        ratio = f"{pk[0] / iops:8.3f}" if pk and iops else f"{'-':>8s}"
        print(f"{label:9s} {name:14s} {qd:>3s} {iops:8d} {split_range:>13s} {mbps10 / 10:8.1f} "
              f"{ipr100 / 100:7.2f} {lat:7d} {errors:6d} {pk[0] if pk else '-':>8} "
              f"{pk_range:>13s} {ratio}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
