"""Several CPUs (kernel/smp/, arch/x86_64/ap_start.c, test/kernel/smp_selftest.c).

Every CPU QEMU gives must report in on every machine and every boot path,
under multi-threaded TCG, and `test=smp,boot` must pass there: each CPU has
its own per-CPU block, tables and ticks, and a start aimed at an APIC no CPU
answers times out and leaves nothing behind. `-smp 2,maxcpus=4` lists two
absent CPUs in the MADT, which must be skipped without a hang. The `cpus`
command shows each CPU from the shell, and its tick counts move.
"""

import re
import struct
import time

import pytest

from qemu import KERNEL, PROMPT, STATUS_PASS, make_iso
from test_efi import efi_qemu, good_esp  # noqa: F401 (efi_qemu is a fixture)
from test_shell import run

SMP_TESTS = "test=smp,boot"
ONLINE = re.compile(r"^smp: (\d+) CPU\(s\) online, (\d+) failed, (\d+) not started, "
                    r"(\d+) absent slot\(s\) skipped", re.M)
TICKS = re.compile(r"^ok \d+ - CPU (\d+) \(APIC id (\d+)\) took (\d+) ticks in 100 ms", re.M)


def passes(vm):
    """Run to the exit; the log, after checking that every check passed."""
    status, log = vm.run_to_exit()
    failed = re.findall(r"^not ok \d+ - .*$", log, re.M)
    assert not failed, "failed checks:\n" + "\n".join(failed)
    assert "selftest: PASS" in log and status == STATUS_PASS, f"exit status {status}"
    return log


def online(log):
    m = ONLINE.search(log)
    assert m, "no `smp: N CPU(s) online` line"
    return tuple(int(x) for x in m.groups())


def every_cpu_ticks(log, n):
    cpus = sorted(int(m.group(1)) for m in TICKS.finditer(log))
    assert cpus == list(range(n)), f"tick checks for CPUs {cpus}, expected 0..{n - 1}"


@pytest.mark.parametrize("machine", ["q35", "pc", "microvm"])
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_every_cpu_reports_in(qemu, machine, cpus):
    vm = qemu(machine=machine, kernel=KERNEL, append=SMP_TESTS, smp=cpus, timeout=60)
    log = passes(vm)
    assert online(log) == (cpus, 0, 0, 0)
    every_cpu_ticks(log, cpus)


@pytest.mark.parametrize("ovmf", [False, True], ids=["grub-bios", "grub-uefi"])
def test_iso_boot_paths_start_every_cpu(qemu, ovmf):
    vm = qemu(machine="q35", iso=make_iso(SMP_TESTS), ovmf=ovmf, smp=4, timeout=120)
    log = passes(vm)
    assert "booted via multiboot2" in log
    assert online(log) == (4, 0, 0, 0)
    every_cpu_ticks(log, 4)


def test_efi_loader_starts_every_cpu(efi_qemu, tmp_path):  # noqa: F811
    vm = efi_qemu(good_esp(tmp_path, SMP_TESTS), smp=4, timeout=120)
    log = passes(vm)
    assert "booted via efi" in log
    assert online(log) == (4, 0, 0, 0)
    every_cpu_ticks(log, 4)


def test_absent_cpus_are_skipped(qemu):
    """-smp 2,maxcpus=4: the MADT lists APIC ids 2 and 3 as neither enabled
    nor online capable. They are skipped at boot, and the self-test's start
    aimed at id 2 times out (no CPU answers there)."""
    vm = qemu(machine="q35", kernel=KERNEL, append=SMP_TESTS, smp="2,maxcpus=4", timeout=60)
    log = passes(vm)
    assert online(log) == (2, 0, 0, 2)
    assert re.search(r"^ok \d+ - slot 2 \(APIC id 2\) is absent$", log, re.M)
    assert re.search(r"^ok \d+ - starting APIC id 2, which no CPU answers, gives -ETIMEDOUT",
                     log, re.M)


CPU_ROW = re.compile(r"^\s*(\d+)\s+(\d+|-)\s+(\d+)\s+(online|absent|not started|failed)"
                     r"(?:\s+(\d+)\s+(\d+))?", re.M)


def cpu_rows(out):
    return [m.groups() for m in CPU_ROW.finditer(out)]


def test_cpus_command(qemu):
    """`cpus` lists each slot; online CPUs' ticks move between two calls, and
    smp.max_cpus=3 leaves the fourth CPU not started."""
    vm = qemu(machine="q35", kernel=KERNEL, append="smp.max_cpus=3", smp="4,maxcpus=5",
              timeout=60)
    vm.expect_exact(PROMPT)
    first = cpu_rows(run(vm, "cpus"))
    states = [row[3] for row in first]
    assert states == ["online", "online", "online", "not started", "absent"], first
    assert [row[2] for row in first] == ["0", "1", "2", "3", "4"]
    time.sleep(0.3)  # 30 ticks at 100 Hz
    second = cpu_rows(run(vm, "cpus"))
    for a, b in zip(first[:3], second[:3]):
        assert int(b[4]) > int(a[4]), f"CPU {a[1]}: ticks {a[4]} then {b[4]}"
        assert int(b[5]) >= int(b[4]), f"CPU {a[1]}: fewer interrupts than ticks"


def smp_blk_word(cpu, sector, j):
    """Word j of sector `sector` as CPU `cpu` wrote it (smp_blk_selftest.c)."""
    return (cpu + 1) << 56 | sector << 8 | j


@pytest.mark.parametrize("cpus", [2, 4])
def test_block_io_from_every_cpu(qemu, tmp_path, cpus):
    """Every CPU writes its own region of an MQ disk at once, each on its
    own queue whose MSI-X vector is steered to it; the image on the host
    must hold every CPU's pattern, and `irqs`-style counters prove each
    queue completed on its own CPU."""
    img = tmp_path / "smp.img"
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    vm = qemu(machine="q35", kernel=KERNEL, append="test=smp_blk", smp=cpus, timeout=120,
              devices=["-drive", f"file={img},format=raw,if=none,id=d0",
                       "-device", f"virtio-blk-pci,drive=d0,num-queues={cpus}"])
    log = passes(vm)
    regions = [tuple(map(int, m)) for m in
               re.findall(r"^smp_blk: cpu (\d+) region (\d+)\+(\d+)$", log, re.M)]
    assert [r[0] for r in regions] == list(range(cpus)), regions
    data = img.read_bytes()
    for cpu, start, count in regions:
        for sector in range(start, start + count):
            words = struct.unpack_from("<64Q", data, sector * 512)
            want = tuple(smp_blk_word(cpu, sector, j) for j in range(64))
            assert words == want, f"sector {sector} does not hold CPU {cpu}'s pattern"
    for q in range(cpus):
        assert re.search(rf"^ok \d+ - queue {q}: \d+ requests, callbacks on CPUs "
                         rf"{1 << q:#x} \(only CPU {q}'s\)$", log, re.M), f"queue {q}"


def test_irqs_shows_where_queue_vectors_go(qemu, tmp_path):
    """`irqs` names each vector's destination APIC and the CPUs that took
    it: with num-queues=2 on -smp 2, queue 1's vector goes to APIC 1."""
    img = tmp_path / "small.img"
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    vm = qemu(machine="q35", kernel=KERNEL, append="", smp=2, timeout=60,
              devices=["-drive", f"file={img},format=raw,if=none,id=d0",
                       "-device", "virtio-blk-pci,drive=d0,num-queues=2"])
    vm.expect_exact(PROMPT)
    out = run(vm, "irqs")
    rows = re.findall(r"^0x[0-9a-f]{2}\s+msi\s+(\d+)\s+(\S+ req\.(\d))\s+\d+\s+0x[0-9a-f]+$",
                      out, re.M)
    assert sorted((int(q), int(to)) for to, _, q in rows) == [(0, 0), (1, 1)], out
