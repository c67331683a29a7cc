"""Start QEMU with the kernel and talk to its serial console.

A `Qemu` builds one QEMU command line (machine, memory, boot method, extra
devices), runs it under pexpect with COM1 on stdio, and keeps everything the
guest printed in `log`. Every instance has a hard deadline enforced by a
timer thread that SIGKILLs the QEMU process by PID, so a hung guest can never
hang the test run; the pytest fixture in conftest.py kills it again at the
end of each test whatever happened.

The kernel's exit status protocol (arch/x86_64/machine.h): the guest writes a
code to isa-debug-exit at port 0xf4 and QEMU exits with (code << 1) | 1.
"""

import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pexpect

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
# TEST_KERNEL overrides the kernel under test (a debug build, a bisect).
KERNEL = os.environ.get("TEST_KERNEL", os.path.join(BUILD, "kernel.elf"))
GRUB_CFG = os.path.join(ROOT, "arch", "x86_64", "boot", "grub.cfg")
ISO_CACHE = os.path.join(BUILD, "test-iso")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
QEMU_BIN = "qemu-system-x86_64"

# QEMU exit statuses for the kernel's exit codes (arch/x86_64/machine.h).
STATUS_HALT = 1     # EXIT_HALT  0x00: shell `halt`
STATUS_PASS = 33    # EXIT_PASS  0x10: selftest: PASS
STATUS_FAIL = 35    # EXIT_FAIL  0x11: selftest: FAIL
STATUS_PANIC = 37   # EXIT_PANIC 0x12: panic or CPU exception

PROMPT = "virtio-os> "

# Guest-side boot times seen by any test, keyed by a label; printed at the
# end of the run by conftest.py.
BOOT_TIMES = {}


def kernel_words(cmdline):
    """Split a command line the way kernel/lib/cmdline.c does: spaces separate
    words except inside double quotes, and the quotes are removed."""
    words, word, quoted, in_word = [], [], False, False
    for ch in cmdline:
        if ch == '"':
            quoted, in_word = not quoted, True
        elif ch in " \t\n\r" and not quoted:
            if in_word:
                words.append("".join(word))
            word, in_word = [], False
        else:
            word.append(ch)
            in_word = True
    if in_word:
        words.append("".join(word))
    return words


def grub_quote(word):
    """Quote `word` as one GRUB script word (single quotes: no expansion)."""
    return "'" + word.replace("'", "'\\''") + "'"


def grub_delivered_cmdline(cmdline):
    """The command line GRUB hands a multiboot2 kernel for `cmdline`.

    The ISO's grub.cfg gives GRUB one script word per kernel word
    (make_iso), and GRUB joins the words again
    (grub-core/lib/cmdline.c, grub_create_loader_cmdline): `\\`, `'` and
    `"` get a backslash, and a word containing a space is put in double
    quotes. Linux-style parsing reads that back as the same words."""
    out = []
    for word in kernel_words(cmdline):
        escaped = "".join("\\" + c if c in "\\'\"" else c for c in word)
        out.append(f'"{escaped}"' if " " in word else escaped)
    return " ".join(out)


def make_iso(cmdline):
    """A GRUB rescue ISO (BIOS + UEFI) booting build/kernel.elf with `cmdline`
    (as GRUB delivers it: see grub_delivered_cmdline()).

    Built in a temporary directory from arch/x86_64/boot/grub.cfg with @CMDLINE@
    replaced, and cached under build/test-iso/ by a hash of the kernel and the
    resulting GRUB config, so each distinct ISO is built once."""
    with open(KERNEL, "rb") as f:
        kernel = f.read()
    with open(GRUB_CFG, encoding="utf-8") as f:
        cfg = f.read()
    assert "@CMDLINE@" in cfg, "arch/x86_64/boot/grub.cfg has no @CMDLINE@ placeholder"
    grub_words = " ".join(grub_quote(w) for w in kernel_words(cmdline))
    cfg = cfg.replace("@CMDLINE@", grub_words)
    key = hashlib.sha256(kernel + cfg.encode()).hexdigest()[:16]
    iso = os.path.join(ISO_CACHE, key + ".iso")
    if os.path.exists(iso):
        return iso
    os.makedirs(ISO_CACHE, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ISO_CACHE) as tmp:
        grub_dir = os.path.join(tmp, "root", "boot", "grub")
        os.makedirs(grub_dir)
        shutil.copy(KERNEL, os.path.join(tmp, "root", "boot", "kernel.elf"))
        with open(os.path.join(grub_dir, "grub.cfg"), "w", encoding="utf-8") as f:
            f.write(cfg)
        out = os.path.join(tmp, "out.iso")
        proc = subprocess.run(["grub-mkrescue", "-o", out, os.path.join(tmp, "root")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300)
        assert proc.returncode == 0, f"grub-mkrescue failed:\n{proc.stdout}"
        os.replace(out, iso)  # atomic: a cached ISO is always complete
    return iso


class Qemu:
    """One QEMU run. Build it, `start()`, then `expect`/`send`, then `wait()`.

    machine   "q35", "pc" or "microvm"
    kernel    path of an ELF for -kernel (the PVH entry), with `append`
    iso       path of an ISO to boot from CD (GRUB, multiboot2)
    ovmf      boot UEFI firmware (a private writable copy of the VARS file
              goes into `tmpdir`) instead of SeaBIOS
    devices   extra QEMU arguments (list of strings)
    timeout   hard deadline in seconds for the whole run
    debug_exit  add isa-debug-exit at port 0xf4 (the default), through which
              the kernel exits with a status; False leaves it out, as on a
              machine where only ACPI power-off (status 0) or a halt remains
    smp       QEMU's -smp value ("4", "2,maxcpus=4"); None: QEMU's default, 1
    """

    def __init__(self, machine="q35", memory="256M", kernel=None, append=None, iso=None,
                 ovmf=False, devices=(), timeout=30, tmpdir=None, name="qemu",
                 debug_exit=True, smp=None):
        assert (kernel is None) != (iso is None), "boot either a kernel or an ISO"
        self.machine = machine
        self.memory = memory
        self.kernel = kernel
        self.append = append
        self.iso = iso
        self.ovmf = ovmf
        self.debug_exit = debug_exit
        self.smp = smp
        self.devices = list(devices)
        self.timeout = timeout
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="qemu-")
        self.name = name
        self.child = None
        self.status = None
        self._log = io.StringIO()
        self._killer = None
        self.start_time = None

    def args(self):
        """The full QEMU command line as a list."""
        # thread=multi: one host thread per guest CPU (QEMU's default for
        # x86 on x86, stated so that -smp runs really are parallel).
        args = [QEMU_BIN, "-M", self.machine, "-accel", "tcg,thread=multi", "-m", self.memory,
                "-display", "none", "-monitor", "none",
                # signal=off: a 0x03 byte (Ctrl-C) is for the guest, not QEMU.
                "-chardev", "stdio,id=serial0,signal=off", "-serial", "chardev:serial0",
                "-no-reboot"]
        if self.smp is not None:
            args += ["-smp", str(self.smp)]
        if self.debug_exit:
            args += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if self.ovmf:
            vars_copy = os.path.join(self.tmpdir, "OVMF_VARS.fd")
            shutil.copy(OVMF_VARS, vars_copy)
            args += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                     "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
        if self.kernel:
            args += ["-kernel", self.kernel]
            if self.append is not None:
                args += ["-append", self.append]
        if self.iso:
            args += ["-cdrom", self.iso]
        return args + self.devices

    def start(self):
        """Spawn QEMU and arm the hard deadline. Returns self."""
        args = self.args()
        self._log.write("$ " + " ".join(args) + "\n")
        self.start_time = time.monotonic()
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8",
                                   codec_errors="replace", timeout=self.timeout,
                                   logfile=None, echo=False)
        self.child.logfile_read = self._log
        self._killer = threading.Timer(self.timeout, self._deadline)
        self._killer.daemon = True
        self._killer.start()
        return self

    def _deadline(self):
        self._log.write(f"\n[harness: hard timeout of {self.timeout} s, killing QEMU]\n")
        self.kill()

    def _remaining(self, timeout):
        left = self.timeout - (time.monotonic() - self.start_time)
        return max(0.1, min(left, timeout) if timeout is not None else left)

    def expect(self, pattern, timeout=None):
        """Wait for a regex (or list of them) in the console output.

        Returns the match object. Fails the test with the console log on a
        timeout or if QEMU exits first."""
        try:
            self.child.expect(pattern, timeout=self._remaining(timeout))
        except pexpect.TIMEOUT:
            raise AssertionError(f"{self.name}: timed out waiting for {pattern!r}\n"
                                 f"--- console ---\n{self.log[-6000:]}") from None
        except pexpect.EOF:
            raise AssertionError(f"{self.name}: QEMU exited (status {self.wait()}) while "
                                 f"waiting for {pattern!r}\n--- console ---\n"
                                 f"{self.log[-6000:]}") from None
        return self.child.match

    def expect_exact(self, text, timeout=None):
        """Like expect(), for a literal string."""
        return self.expect(re.escape(text), timeout)

    def send(self, text):
        """Type `text` on the serial line as is."""
        self.child.send(text)

    def sendline(self, text):
        """Type `text` and Enter (a carriage return, as a terminal sends)."""
        self.child.send(text + "\r")

    def wait(self, timeout=None):
        """Wait for QEMU to exit; return its exit status (None if killed)."""
        if self.status is not None or self.child is None:
            return self.status
        try:
            self.child.expect(pexpect.EOF, timeout=self._remaining(timeout))
        except pexpect.TIMEOUT:
            raise AssertionError(f"{self.name}: QEMU did not exit in time\n--- console ---\n"
                                 f"{self.log[-6000:]}") from None
        self.child.close()
        self.status = self.child.exitstatus
        if self._killer:
            self._killer.cancel()
        return self.status

    def kill(self):
        """SIGKILL the QEMU process by PID, if it still runs."""
        if self.child is None:
            return
        pid = self.child.pid
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self):
        """Kill QEMU and reap it; safe to call more than once."""
        if self._killer:
            self._killer.cancel()
        if self.child is not None and self.status is None:
            self.kill()
            try:
                self.child.close(force=True)
            except Exception:  # already gone: nothing left to reap
                pass

    @property
    def log(self):
        """Everything QEMU printed so far (the guest's console), with the
        carriage returns of CR LF line ends (doubled by the pty) removed."""
        return self._log.getvalue().replace("\r", "")

    def run_to_exit(self):
        """Start, wait for the guest to exit, return (status, log)."""
        if self.child is None:
            self.start()
        status = self.wait()
        return status, self.log


def guest_boot_ms(log):
    """The guest's own `boot: N.NNN ms since entry` figure, or None."""
    m = re.search(r"boot: (\d+\.\d+) ms since entry", log)
    return float(m.group(1)) if m else None


def qmp(sock_path, *commands):
    """Send QMP commands over a unix socket; return their replies."""
    deadline = time.monotonic() + 10
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
            break
        except OSError:
            s.close()
            assert time.monotonic() < deadline, "QMP socket never appeared"
            time.sleep(0.1)
    f = s.makefile("rw")
    json.loads(f.readline())
    replies = []
    for cmd in ({"execute": "qmp_capabilities"},) + commands:
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            reply = json.loads(f.readline())
            if "event" not in reply:
                break
        replies.append(reply)
    s.close()
    return replies[1:]
