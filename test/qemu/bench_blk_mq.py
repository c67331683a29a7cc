#!/usr/bin/env python3
"""`make bench-blk-mq`: how block IOPS scale with CPUs (issue 15).

Runs bench=blk_mq (test/kernel/blk_mq_bench.c: 4 KiB random reads, queue
depth 32 on every CPU, one submitter per CPU) in QEMU under multi-threaded
TCG on the null-co backend (no I/O at all: what is left is the guest, the
rings and QEMU's virtio emulation), with -smp 1, 2 and 4 and num-queues
equal to the CPUs, each without and with an iothread for the disk. Every
configuration runs --runs times, interleaved, and the table shows the
median total IOPS, the range, and the ratio to -smp 1 of the same kind,
all measured in this one run.

The host has 2 cores: with -smp N, QEMU runs N vCPU threads plus its main
loop (or the iothread), which emulates the device for every queue. So the
ceiling for -smp 2 is below 2x even if the guest scaled perfectly, and
-smp 4 oversubscribes the host. Figures only: the exit status is non-zero
only when a run did not finish.
"""

import argparse
import re
import subprocess

RESULT = re.compile(r"^bench: blk_mq result cpus=(\d+) queues=(\d+) iops=(\d+) errors=(\d+) "
                    r"call=(-?\d+)", re.M)


def run(kernel, cpus, iothread, ms):
    dev = f"virtio-blk-pci,drive=d0,num-queues={cpus}"
    args = ["qemu-system-x86_64", "-M", "q35", "-m", "256M", "-accel", "tcg,thread=multi",
            "-smp", str(cpus), "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-kernel", kernel, "-append", f"bench=blk_mq bench.blk_ms={ms}",
            "-drive", "driver=null-co,size=1G,read-zeroes=on,if=none,id=d0"]
    if iothread:
        args += ["-object", "iothread,id=io0"]
        dev += ",iothread=io0"
    args += ["-device", dev]
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace", timeout=60 + ms // 1000 * 4)
    except subprocess.TimeoutExpired as e:
        out = e.output.decode(errors="replace") if isinstance(e.output, bytes) else e.output
        return "timeout", out or ""
    return proc.returncode, proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="build/kernel.elf")
    ap.add_argument("--ms", type=int, default=2000, help="milliseconds per run")
    ap.add_argument("--runs", type=int, default=3, help="runs of each configuration")
    ap.add_argument("--cpus", default="1,2,4")
    opts = ap.parse_args()
    cpu_counts = [int(c) for c in opts.cpus.split(",")]

    samples, failed = {}, False
    for _ in range(opts.runs):
        for iothread in (False, True):
            for cpus in cpu_counts:
                status, log = run(opts.kernel, cpus, iothread, opts.ms)
                m = RESULT.search(log)
                if status != 33 or not m or int(m.group(4)) or int(m.group(5)):
                    print(f"bench-blk-mq: -smp {cpus} iothread={iothread}: status {status}\n"
                          f"{log[-2000:]}")
                    failed = True
                    continue
                samples.setdefault((iothread, cpus), []).append(int(m.group(3)))

    print(f"\nvirtio-blk null-co, 4 KiB random reads, qd 32 per CPU, num-queues = CPUs, "
          f"multi-threaded TCG on a 2-core host, {opts.ms} ms, median of {opts.runs} runs")
    print(f"{'disk':12s} {'-smp':>4s} {'IOPS':>9s} {'range':>17s} {'vs -smp 1':>9s}")
    for iothread in (False, True):
        base = None
        for cpus in cpu_counts:
            runs = sorted(samples.get((iothread, cpus), []))
            if not runs:
                continue
            med = runs[(len(runs) - 1) // 2]
            if cpus == cpu_counts[0]:
                base = med
            ratio = f"{med / base:.2f}x" if base else "-"
            print(f"{'iothread' if iothread else 'main loop':12s} {cpus:4d} {med:9d} "
                  f"{f'{runs[0]}-{runs[-1]}':>17s} {ratio:>9s}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
