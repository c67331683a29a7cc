"""The kernel command line from outside (kernel/lib/cmdline.c, issue 14).

  - A line longer than Linux's 2,048 characters, with well over 64 words,
    arrives whole on the PVH and the GRUB (multiboot2) paths: the `boot`
    self-test prints it back unchanged, and the last word still counts.
  - A line longer than the kernel holds (4,095 characters) is cut at a word
    boundary and the cut is reported with the count and the lost word; the
    words before it still count (PVH and GRUB). Past what QEMU's PVH ROM
    holds, the panic says so.
  - Bad words (`=x`, an unterminated quote, a bad boolean, number or
    address, an out-of-range timeout) are each reported by name, and every
    other word is kept; given twice, the last value wins.
  - A refused `ip=` (addresses no host may have, inet_aton's shorthand)
    leaves the interface on DHCP, and `help options` shows each option's
    type and default.
"""

import re

import pytest

from net_helpers import shell, user_netdev, wait_address
from qemu import KERNEL, STATUS_HALT, STATUS_PANIC, STATUS_PASS, grub_delivered_cmdline, make_iso

PASS_WORD = "test=boot,newlib"


def echoed_cmdline(log):
    """The command line the `boot` self-test printed back."""
    got = [text for text in re.findall(r"^cmdline: (.*?)\r?$", log, re.M)
           if not text.startswith("unknown option ")]
    assert len(got) == 1, f"expected one `cmdline: <text>` line, got {len(got)}"
    return got[0]


def cmdline_errors(log):
    return re.findall(r"^(?:error|warning): cmdline: .*$", log, re.M)


@pytest.mark.parametrize("path", ["pvh-q35", "iso-q35-seabios"])
def test_long_command_line_arrives_whole(qemu, path):
    # 190 words of a declared option (so no 190 "unknown" lines), then the
    # word that decides the exit status: lost, and the run would not PASS.
    pad = " ".join(f"net.ping=10.0.0.{i % 250 + 1}" for i in range(190))
    cmdline = f"{pad} {PASS_WORD}"
    assert 2048 < len(cmdline) < 4095
    if path == "pvh-q35":
        vm = qemu(machine="q35", kernel=KERNEL, append=cmdline)
        expected = cmdline
    else:
        vm = qemu(machine="q35", iso=make_iso(cmdline), timeout=60)
        expected = grub_delivered_cmdline(cmdline)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, log
    assert echoed_cmdline(log) == expected, "the command line changed on the way in"
    assert cmdline_errors(log) == [
        "warning: cmdline: net.ping given 190 times; the last one wins: "
        f"net.ping=10.0.0.{189 % 250 + 1}"], "only the duplicate is reported"


# QEMU's PVH option ROM copies the command line into a buffer of 4,128
# bytes just below its hvm_start_info, so a longer line overwrites the
# start_info (the kernel then panics: "the loader's information is
# invalid"). 4,120 is over the kernel's 4,095 and within what PVH carries;
# GRUB's multiboot2 has no such limit.
@pytest.mark.parametrize("path,length", [("pvh-q35", 4120), ("iso-q35-seabios", 6000)])
def test_overlong_command_line_is_cut_loudly(qemu, path, length):
    words, n = [PASS_WORD], 0
    while len(" ".join(words)) < length:
        words.append(f"pad.word{n:04d}=x")  # unknown: each reported
        n += 1
    cmdline = " ".join(words)[:length].rstrip()
    if path == "pvh-q35":
        vm = qemu(machine="q35", kernel=KERNEL, append=cmdline)
    else:
        vm = qemu(machine="q35", iso=make_iso(cmdline), timeout=60)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, "the words before the cut must still count"
    # The kernel kept 4,095 characters; the word they end in is dropped whole.
    kept = cmdline[:4095]
    cut_at = kept.rfind(" ") + 1
    m = re.search(r"error: cmdline: the command line has (\d+) characters, only the first "
                  r"(\d+) are kept \(at most 4095 fit\); everything from character (\d+) on "
                  r"is ignored, the cut word '([^']*)' too", log)
    assert m, "no report of the cut"
    assert int(m.group(1)) == len(cmdline) and int(m.group(2)) == 4095
    assert int(m.group(3)) == cut_at + 1 and m.group(4) == kept[cut_at:]
    last_whole = kept[:cut_at].split()[-1]
    assert f"unknown option '{last_whole}'" in log, "the last whole word is still read"
    assert f"unknown option '{kept[cut_at:]}'" not in log, "the cut word is not read as a word"


def test_line_too_long_for_qemus_pvh_rom_is_explained(qemu):
    """Past what QEMU's PVH ROM holds, its start_info is overwritten before
    the kernel runs: nothing to recover, but the panic says why."""
    cmdline = PASS_WORD + " pad.x=y" * 600
    vm = qemu(machine="q35", kernel=KERNEL, append=cmdline)
    status, log = vm.run_to_exit()
    assert status == STATUS_PANIC
    assert re.search(r"PANIC: boot: the loader's information is invalid \(path pvh\): the PVH "
                     r"start_info at 0x[0-9a-f]+ has magic 0x[0-9a-f]{8}, expected 0x336ec578 "
                     r"\(a command line too long for QEMU's PVH ROM", log), log[-2000:]


def test_bad_words_are_reported_and_the_rest_kept(qemu):
    bad = ['=x', 'virtio_pci.msix=banana', 'pci.expect=12q', 'net.http_idle_timeout=0',
           'virtio.ring=circular', 'label="oops']
    # 100 more words than the old limit of 64, and a first test= that would
    # FAIL (unknown self-test) if it won over the last.
    many = " ".join(f"net.ping=10.0.1.{i + 1}" for i in range(100))
    cmdline = f"test=no_such_test {' '.join(bad[:-1])} {many} {bad[-1]} {PASS_WORD}"
    vm = qemu(machine="q35", kernel=KERNEL, append=cmdline)
    status, log = vm.run_to_exit()
    assert status == STATUS_PASS, "the last test= must win, and no good word be lost"
    errors = "\n".join(cmdline_errors(log))
    for expected in [
            "'=x': empty key, expected key=value or flag; word ignored",
            "virtio_pci.msix=banana: expected a boolean (1/0, y/n, yes/no, on/off, true/false); "
            "using the default, on",
            "pci.expect=12q: expected a number (decimal or 0x hex, optional K/M/G suffix); "
            "using the default, 0",
            "net.http_idle_timeout=0: expected a number from 1 to 3600; using the default, 15",
            "virtio.ring=circular: expected split, packed or auto; ignored, as if not given",
            "'label=\"oops': unterminated double quote, expected a closing \"; word ignored",
            f"test given 2 times; the last one wins: {PASS_WORD}",
            "net.ping given 100 times; the last one wins: net.ping=10.0.1.100"]:
        assert expected in errors, f"missing: {expected}\nreported:\n{errors}"
    assert "unknown option 'label" not in log, "a malformed word is not also unknown"


@pytest.mark.parametrize("ip", ["0.0.0.0/8", "255.255.255.255/32", "224.0.0.1/4", "10.1/8"])
def test_refused_ip_leaves_dhcp(qemu, ip):
    vm = qemu(machine="q35", kernel=KERNEL, append=f"ip={ip}",
              devices=user_netdev() + ["-device", "virtio-net-pci,netdev=n0"], timeout=60)
    vm.expect(rf"error: cmdline: ip={re.escape(ip)}: expected [^\n]*; ignored, as if not given")
    wait_address(vm, "10.0.2.15")  # slirp's DHCP lease, not the refused address
    out = shell(vm, "help options")
    assert re.search(r"^  ip +text +ADDR/PREFIX", out, re.M), out
    assert re.search(r"^  virtio_pci\.msix +bool, default on ", out, re.M), out
    assert re.search(r"^  net\.http_idle_timeout +number, default 15 ", out, re.M), out
    assert re.search(r"^  virtio_mmio\.device +text, repeatable ", out, re.M), out
    vm.sendline("halt")
    status, _ = vm.run_to_exit()
    assert status == STATUS_HALT
