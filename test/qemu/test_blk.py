"""virtio-blk (virtio 1.2 section 5.2) checked from outside the guest.

The host writes raw images with a known pattern, the guest (`test=blk`,
test/kernel/blk_selftest.c) reads them and prints CRC-32s, writes its own
pattern leaving holes, zeroes and discards a few ranges and prints what it
did; after QEMU exits the test reads the image file and checks every sector:
written ones hold the guest's pattern, holes and everything past the test
range still hold the host's, zeroed ranges are zero.

Sector contents (same as the guest's fill_sector()): bytes 0-7 the sector
number, 8-15 the seed, little-endian, then 496 bytes of a fixed LCG table
starting at (sector * 131 + seed) mod 512.
"""

import os
import re
import struct
import zlib

import pytest

from qemu import KERNEL, PROMPT, STATUS_HALT, STATUS_PASS, qmp

SEED_INIT = 0x1001
SEED_WRITE = 0x2002
MIB = 1024 * 1024


def _table():
    x, out = 0xB10C, bytearray()
    for _ in range(1024):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


TABLE = _table()


def sector_data(sector, seed):
    k = (sector * 131 + seed) & 511
    return struct.pack("<QQ", sector, seed) + TABLE[k:k + 496]


def make_image(path, sectors, seed=SEED_INIT):
    with open(path, "wb") as f:
        for s in range(sectors):
            f.write(sector_data(s, seed))


def parse_report(log, dev):
    """What the guest said it did to `dev`."""
    def ranges(word):
        return [(int(a), int(b)) for a, b in
                re.findall(rf"^blk: {dev} {word} (\d+)\+(\d+)$", log, re.M)]

    rng = ranges("range")
    assert rng, f"guest printed no range for {dev}"
    report = {"range": rng[0][1], "holes": ranges("hole"), "zeroes": ranges("zeroes"),
              "discard": ranges("discard")}
    m = re.search(rf"^blk: {dev} initial crc32 (0x[0-9a-f]+) pattern (\w+)$", log, re.M)
    assert m, f"no initial crc32 for {dev}"
    report["initial_crc"], report["initial_pattern"] = int(m.group(1), 16), m.group(2)
    m = re.search(rf"^blk: {dev} final crc32 (0x[0-9a-f]+)$", log, re.M)
    report["final_crc"] = int(m.group(1), 16) if m else None
    return report


def inside(s, ranges):
    return any(a <= s < a + n for a, n in ranges)


def verify_image(path, total, rep, written=True):
    """Check every sector of the image file against what the guest did."""
    data = open(path, "rb").read()
    assert len(data) == total * 512, "the image changed size"
    n = rep["range"]
    bad = []
    for s in range(total):
        got = data[s * 512:(s + 1) * 512]
        initial = sector_data(s, SEED_INIT)
        if not written or s >= n or inside(s, rep["holes"]):
            ok, want = got == initial, "the host's initial pattern"
        elif inside(s, rep["zeroes"]):
            ok, want = got == bytes(512), "zeroes"
        elif inside(s, rep["discard"]):
            ok = got in (initial, sector_data(s, SEED_WRITE), bytes(512))
            want = "initial, written or zero (discarded)"
        else:
            ok, want = got == sector_data(s, SEED_WRITE), "the guest's pattern"
        if not ok:
            bad.append(f"sector {s}: expected {want}")
    assert not bad, f"{len(bad)} bad sectors, first: " + "; ".join(bad[:5])
    if written:
        assert rep["final_crc"] == zlib.crc32(data[:n * 512]), "final CRC differs from the file"


def run_selftest(qemu, devices, timeout=90):
    vm = qemu(machine="q35", kernel=KERNEL, append="test=blk", devices=devices,
              timeout=timeout)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, f"test=blk exited with {status}:\n{log[-6000:]}"
    assert "not ok" not in log
    return log


def disk(path, ident, readonly=False, extra=""):
    ro = ",readonly=on" if readonly else ""
    return ["-drive", f"file={path},format=raw,if=none,id={ident}{ro}",
            "-device", f"virtio-blk-pci,drive={ident}{extra}"]


TRANSPORTS = {
    # On q35's root bus a virtio-pci device is transitional by default.
    "transitional": ("", r"pci-modern msix"),
    "modern-only": (",disable-legacy=on", r"pci-modern msix"),
    "legacy-only": (",disable-modern=on", r"pci-legacy"),
    "modern-intx": (",disable-legacy=on,vectors=0", r"pci-modern intx"),
    "legacy-intx": (",disable-modern=on,vectors=0", r"pci-legacy.*intx"),
}


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_blk_integrity(qemu, tmp_path, transport):
    """8 MiB written and verified byte for byte, on each PCI flavour."""
    extra, bus = TRANSPORTS[transport]
    img = str(tmp_path / "disk.img")
    total = 8 * MIB // 512
    make_image(img, total)
    log = run_selftest(qemu, disk(img, "d0", extra=extra + ",serial=VOS-" + transport[:10]))
    assert re.search(rf"^vda: virtio\d+ \({bus}", log, re.M), \
        f"vda is not on {bus}:\n" + "\n".join(line for line in log.splitlines()
                                               if line.startswith("vda"))
    rep = parse_report(log, "vda")
    assert rep["initial_pattern"] == "yes"
    assert rep["initial_crc"] == zlib.crc32(b"".join(sector_data(s, SEED_INIT)
                                                     for s in range(total)))
    assert f"blk: vda id 'VOS-{transport[:10]}'" in log
    assert len(rep["holes"]) > 3 and rep["zeroes"] and rep["discard"]
    verify_image(img, total, rep)


def test_blk_two_disks_one_readonly(qemu, tmp_path):
    """vdb is readonly=on: writes refused with -EROFS, its file untouched;
    vda is written and verified."""
    a, b = str(tmp_path / "a.img"), str(tmp_path / "b.img")
    make_image(a, 8 * MIB // 512)
    make_image(b, 4 * MIB // 512)
    before = open(b, "rb").read()
    log = run_selftest(qemu, disk(a, "d0") + disk(b, "d1", readonly=True))
    assert re.search(r"^vdb: .*read-only", log, re.M)
    assert re.search(r"ok \d+ - vdb: write to a read-only device refused: -30 EROFS", log)
    assert re.search(r"ok \d+ - vdb: nothing was sent to the read-only device", log)
    rep_b = parse_report(log, "vdb")
    assert rep_b["initial_crc"] == zlib.crc32(before)
    assert open(b, "rb").read() == before, "the read-only image changed"
    verify_image(a, 8 * MIB // 512, parse_report(log, "vda"))


def test_blk_multiqueue(qemu, tmp_path):
    """num-queues=4: every queue carries requests, data stays correct."""
    img = str(tmp_path / "mq.img")
    total = 8 * MIB // 512
    make_image(img, total)
    log = run_selftest(qemu, disk(img, "d0", extra=",num-queues=4"))
    queues = re.findall(r"^blk: vda queue (\d+) size \d+ requests (\d+) completed (\d+)", log,
                        re.M)
    assert len(queues) == 4, queues
    for q, req, done in queues:
        assert int(req) > 10 and req == done, f"queue {q}: {req} requests, {done} completed"
    assert re.search(r"ok \d+ - vda: requests spread over all 4 queues", log)
    verify_image(img, total, parse_report(log, "vda"))


@pytest.mark.parametrize("geometry", ["odd-size", "4k-blocks"])
def test_blk_odd_geometry(qemu, tmp_path, geometry):
    """A size no request size divides (requests at the last sector), and a
    disk with 4 KiB logical blocks (requests split on 4 KiB boundaries)."""
    img = str(tmp_path / "odd.img")
    if geometry == "odd-size":
        total, extra = 6 * MIB // 512 + 37, ""
    else:
        total = 6 * MIB // 512 + 24
        extra = ",logical_block_size=4096,physical_block_size=4096"
    make_image(img, total)
    log = run_selftest(qemu, disk(img, "d0", extra=extra))
    assert re.search(rf"ok \d+ - vda: read of the last block \(sector {total - (1 if geometry == 'odd-size' else 8)}\) works", log), log[-3000:]
    assert re.search(rf"ok \d+ - vda: read at the capacity \({total}\) refused: -34 ERANGE", log)
    rep = parse_report(log, "vda")
    assert rep["range"] == total
    verify_image(img, total, rep)


def shell_run(vm, command):
    vm.sendline(command)
    vm.expect_exact(PROMPT)
    out = vm.child.before.replace("\r", "")
    return out.split("\n", 1)[1] if "\n" in out else ""


def test_blk_shell_errors_and_readonly(qemu, tmp_path):
    """blkdebug injects EIO on reads of sector 100 and writes of sector 200:
    those requests fail with -5 (EIO), the shell goes on, other requests
    work. A readonly=on disk refuses writes with EROFS."""
    img, ro = str(tmp_path / "e.img"), str(tmp_path / "ro.img")
    make_image(img, 4 * MIB // 512)
    make_image(ro, 2 * MIB // 512)
    conf = tmp_path / "blkdebug.conf"
    conf.write_text('[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "100"\n\n'
                    '[inject-error]\nevent = "write_aio"\nerrno = "5"\nsector = "200"\n')
    # raw on top of blkdebug: the raw format driver raises the read_aio /
    # write_aio events the rules wait for.
    devices = ["-drive", f"driver=raw,file.driver=blkdebug,file.config={conf},"
                         f"file.image.filename={img},if=none,id=d0",
               "-device", "virtio-blk-pci,drive=d0,serial=ERRDISK"]
    devices += disk(ro, "d1", readonly=True)
    vm = qemu(machine="q35", kernel=KERNEL, append="", devices=devices, timeout=60)
    vm.expect_exact(PROMPT)

    out = shell_run(vm, "lsblk")
    assert re.search(r"^vda\s+4\.0 MiB\s+8192\s+512\s+rw\s+1\s+virtio-blk", out, re.M), out
    assert re.search(r"^vdb\s+2\.0 MiB\s+4096\s+512\s+ro", out, re.M), out

    out = shell_run(vm, "blk read vda 100")
    assert "blk: read vda sector 100 count 1: error -5 (EIO)" in out, out
    out = shell_run(vm, "blk read vda 99")
    assert "blk: read vda sector 99 count 1: ok" in out, out
    out = shell_run(vm, "blk write vda 200 0xaa")
    assert "blk: write vda sector 200 count 1: error -5 (EIO)" in out, out
    out = shell_run(vm, "blk write vda 300 0x55 2")
    assert "blk: write vda sector 300 count 2: ok" in out, out
    out = shell_run(vm, "blk read vda 300")
    assert re.search(r"^00025800(\s+55){16}", out, re.M), out  # byte offset of sector 300
    out = shell_run(vm, "blk write vdb 0 0x11")
    assert "blk: write vdb sector 0 count 1: error -30 (EROFS)" in out, out
    out = shell_run(vm, "blk read vda 8192")
    assert "error -34 (ERANGE)" in out, out
    out = shell_run(vm, "blk id vda")
    assert "vda id 'ERRDISK'" in out, out
    out = shell_run(vm, "blk flush vda")
    assert "blk: flush vda sector 0 count 0: ok" in out, out
    out = shell_run(vm, "blk zero vda 400 8")
    assert "ok" in out, out
    out = shell_run(vm, "blk stats vda")
    assert re.search(r"^read\s+submitted 3 completed 3 errors 1", out, re.M), out
    assert re.search(r"^write\s+submitted 2 completed 2 errors 1", out, re.M), out
    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT

    data = open(img, "rb").read()
    assert data[300 * 512:302 * 512] == b"\x55" * 1024
    assert data[200 * 512:201 * 512] == sector_data(200, SEED_INIT), "failed write changed data"
    assert data[400 * 512:408 * 512] == bytes(8 * 512)
    assert data[408 * 512:409 * 512] == sector_data(408, SEED_INIT)
    assert open(ro, "rb").read() == b"".join(sector_data(s, SEED_INIT) for s in range(4096))


def test_blk_capacity_change(qemu, tmp_path):
    """block_resize on the host: the config-change interrupt makes the
    driver re-read the capacity (5.2.4), report it, and bounds follow."""
    img = str(tmp_path / "grow.img")
    make_image(img, 4 * MIB // 512)
    sock = str(tmp_path / "qmp.sock")
    vm = qemu(machine="q35", kernel=KERNEL, append="",
              devices=disk(img, "d0") + ["-qmp", f"unix:{sock},server=on,wait=off"],
              timeout=60)
    vm.expect_exact(PROMPT)
    out = shell_run(vm, "blk read vda 9000")
    assert "error -34 (ERANGE)" in out, out
    reply = qmp(sock, {"execute": "block_resize",
                       "arguments": {"device": "d0", "size": 6 * MIB}})
    assert "return" in reply[0], reply
    vm.expect(r"vda: capacity changed from 8192 to 12288 sectors")
    vm.sendline("")
    vm.expect_exact(PROMPT)
    out = shell_run(vm, "lsblk")
    assert re.search(r"^vda\s+6\.0 MiB\s+12288\s", out, re.M), out
    out = shell_run(vm, "blk write vda 12287 0x77")
    assert "blk: write vda sector 12287 count 1: ok" in out, out
    vm.sendline("halt")
    assert vm.wait() == STATUS_HALT
    data = open(img, "rb").read()
    assert len(data) == 6 * MIB and data[-512:] == b"\x77" * 512


def test_blk_write_cache_mode(qemu, tmp_path):
    """CONFIG_WCE (5.2.5): `blk cache` switches the device between
    write-back and write-through, and QEMU's own view of the drive (QMP
    query-block) follows; going to write-through flushes first. A device
    without CONFIG_WCE refuses with a clear error and keeps its mode."""
    a, b = str(tmp_path / "wce.img"), str(tmp_path / "fixed.img")
    make_image(a, 2048)
    make_image(b, 2048)
    sock = str(tmp_path / "qmp.sock")
    vm = qemu(machine="q35", kernel=KERNEL, append="",
              devices=disk(a, "d0") + disk(b, "d1", extra=",config-wce=off")
              + ["-qmp", f"unix:{sock},server=on,wait=off"], timeout=60)
    vm.expect_exact(PROMPT)

    def host_writeback(drive):
        reply = qmp(sock, {"execute": "query-block"})[0]["return"]
        return next(d for d in reply if d["device"] == drive)["inserted"]["cache"]["writeback"]

    assert "vda cache writeback" in shell_run(vm, "blk cache vda")
    assert host_writeback("d0") is True
    out = shell_run(vm, "blk cache vda writethrough")
    assert "vda cache writethrough" in out, out
    assert host_writeback("d0") is False
    out = shell_run(vm, "blk stats vda")
    assert re.search(r"^flush\s+submitted 1 completed 1 errors 0", out, re.M), out
    assert "cache writethrough" in shell_run(vm, "lsblk -v")
    out = shell_run(vm, "blk cache vda writeback")
    assert "vda cache writeback" in out, out
    assert host_writeback("d0") is True

    out = shell_run(vm, "blk cache vda sometimes")
    assert "cache mode 'sometimes', expected writeback or writethrough" in out, out
    out = shell_run(vm, "blk cache vdb writethrough")
    assert "vdb: cache mode not changed: error -95 (EOPNOTSUPP), the device's mode is fixed" in out
    assert "vdb cache writeback" in shell_run(vm, "blk cache vdb")
    assert host_writeback("d1") is True
    out = shell_run(vm, "blk write vda 5 0x5a")  # and the disk still works
    assert "blk: write vda sector 5 count 1: ok" in out, out
