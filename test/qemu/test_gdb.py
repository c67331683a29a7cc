"""gdb against a booting kernel, through mk/gdb/virtio-os.gdb as a student uses it.

Each test boots `test=rng` with QEMU's gdb stub, stopped at the reset
vector (-S), and runs gdb in batch mode: the project's script loads the
symbols, sets its breakpoints and connects; gdb continues to the
vring_interrupt breakpoint and runs `vq-dump` there, twice, then
`virtio-devs`. The dumps are checked against what the boot must look like:
the rng driver's queue ("virtio-rng", callback rng_done), the ring layout
QEMU offered and the command line picked, one buffer in flight and used
(the interrupt is for it), counters that moved by exactly one interrupt
and one buffer between the two stops, and ring positions that agree with
those counters. After gdb detaches the self-test must still pass.

QEMU and gdb each run under `timeout`, so neither outlives a test run
that dies (a QEMU waiting under -S would wait forever). QEMU runs in a
session of its own, and that process group (the timeout wrapper and QEMU)
is killed by its id at the end. The stub's port is a free one found by
binding port 0, so parallel runs do not clash.
"""

import os
import re
import signal
import socket
import subprocess

import pytest

from qemu import KERNEL, ROOT, STATUS_PASS, Qemu

SCRIPT = os.path.join("mk", "gdb", "virtio-os.gdb")
DEADLINE = 60  # seconds, for QEMU and for gdb each

# name: (rng device options, extra command line, expected layout)
LAYOUTS = {
    "split": ("", "", "split"),
    "packed": (",packed=on", "", "packed"),
    # The device offers packed, the command line insists on split.
    "split-forced": (",packed=on", "virtio.ring=split", "split"),
}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def stub(tmp_path):
    """Factory: start QEMU stopped under its gdb stub; returns (process, port, log path)."""
    procs = []

    def start(device_opts, cmdline):
        port = free_port()
        log = tmp_path / "console.log"
        vm = Qemu(machine="q35", kernel=KERNEL, append=cmdline, tmpdir=str(tmp_path),
                  devices=["-device", f"virtio-rng-pci{device_opts}",
                           "-gdb", f"tcp:127.0.0.1:{port}", "-S"])
        with open(log, "w") as out:
            proc = subprocess.Popen(["timeout", "-s", "KILL", str(DEADLINE)] + vm.args(),
                                    stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc, port, log

    yield start
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


def run_gdb(port, *commands):
    """gdb in batch mode: the project's script, then `commands`. Returns its output."""
    args = ["timeout", "-s", "KILL", str(DEADLINE), "gdb", "-nx", "-batch",
            "-ex", f"set $gdb_port = {port}", "-ex", f'set $kernel = "{KERNEL}"',
            "-x", SCRIPT]
    for c in commands:
        args += ["-ex", c]
    proc = subprocess.run(args, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=DEADLINE + 10)
    return proc.stdout + proc.stderr


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"vq-dump printed no {pattern!r}:\n{text}"
    return int(m.group(1))


def parse_dump(block):
    """The fields of one vq-dump the checks need, as a dict."""
    m = re.search(r'^virtqueue (0x[0-9a-f]+)  name "([^"]*)"  index (\d+)  device virtio\d+'
                  r'  layout (\w+)$', block, re.M)
    assert m, f"vq-dump's first line is not as expected:\n{block}"
    d = {"addr": m.group(1), "name": m.group(2), "index": int(m.group(3)),
         "layout": m.group(4), "block": block}
    d["num"] = number(r"ring +num (\d+)", block)
    d["in_flight"] = number(r"in_flight (\d+)", block)
    d["broken"] = number(r"flags +broken (\d+)", block)
    for counter in ("added", "completed", "kicks", "interrupts", "spurious"):
        d[counter] = number(rf"\b{counter} (\d+)", block)
    d["used_pending"] = number(r"used_pending (\d+)", block)
    m = re.search(r"callback +0x[0-9a-f]+ <(\w+)>", block)
    d["callback"] = m.group(1) if m else None
    if d["layout"] == "split":
        d["avail_idx"] = number(r"avail\.idx (\d+)", block)
        d["used_idx"] = number(r"used\.idx (\d+)", block)
        d["last_used_idx"] = number(r"last_used_idx (\d+)", block)
    elif d["layout"] == "packed":
        d["next_avail"] = number(r"next_avail (\d+)", block)
        d["last_used"] = number(r"last_used (\d+)", block)
    return d


def dumps(out):
    """Every vq-dump in gdb's output, in order."""
    starts = [m.start() for m in re.finditer(r"^virtqueue 0x", out, re.M)]
    return [parse_dump(out[a:b]) for a, b in zip(starts, starts[1:] + [len(out)])]


@pytest.mark.parametrize("variant", list(LAYOUTS))
def test_vq_dump_at_vring_interrupt(stub, variant):
    opts, extra, layout = LAYOUTS[variant]
    proc, port, log = stub(opts, f"test=rng {extra}".strip())
    out = run_gdb(port, "info breakpoints", "continue", "vq-dump", "continue", "vq-dump",
                  "virtio-devs")
    console = f"--- gdb ---\n{out}\n--- console ---\n{log.read_text()[-3000:]}"

    for where in ("vring_interrupt", "panic", "trap_dispatch"):
        assert re.search(rf"breakpoint +keep y +0x[0-9a-f]+ in {where} ", out), \
            f"no breakpoint on {where}\n{console}"
    assert "stop only if tf->vector < 32" in out, f"trap_dispatch is unconditional\n{console}"
    assert out.count("Breakpoint 1, vring_interrupt (vq=") == 2, \
        f"vring_interrupt breakpoint not hit twice\n{console}"

    found = dumps(out)
    assert len(found) == 2, f"expected two vq-dumps, found {len(found)}\n{console}"
    first, second = found
    for d in found:
        assert d["name"] == "virtio-rng" and d["index"] == 0, f"not the rng queue\n{console}"
        assert d["layout"] == layout, f"layout {d['layout']}, expected {layout}\n{console}"
        assert d["callback"] == "rng_done", f"callback {d['callback']}\n{console}"
        assert d["broken"] == 0, console
        # The driver keeps one buffer out; the interrupt is for it, so the
        # device has used it and get_buf has not taken it yet.
        assert d["in_flight"] == 1 and d["added"] - d["completed"] == 1, console
        assert d["used_pending"] == 1, f"no used buffer waiting at the interrupt\n{console}"
        assert d["spurious"] == 0, console
        assert d["kicks"] == d["added"], f"one kick per rng request expected\n{console}"
        if layout == "split":
            # One descriptor per request, nothing near the 16-bit wrap.
            assert d["avail_idx"] == d["added"], console
            assert d["last_used_idx"] == d["completed"], console
            assert d["used_idx"] == d["last_used_idx"] + 1, console
        else:
            assert d["next_avail"] == d["added"] % d["num"], console
            assert d["last_used"] == d["completed"] % d["num"], console
    assert second["addr"] == first["addr"], console
    # The breakpoint sits before vring_interrupt() counts the call, and
    # stops at every call: exactly one interrupt and one buffer in between.
    assert first["interrupts"] == 0 and second["interrupts"] == 1, console
    assert second["completed"] == first["completed"] + 1, console

    m = re.search(r"^virtio\d+ 0x[0-9a-f]+  device id 4 .* driver virtio-rng$", out, re.M)
    assert m, f"virtio-devs lists no rng device\n{console}"
    assert re.search(rf'^  vq {first["addr"]}  "virtio-rng"  index 0  {layout}$', out, re.M), \
        f"virtio-devs does not list the queue vq-dump showed\n{console}"

    # Detached, the kernel runs on: the self-test must still pass.
    try:
        status = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        status = None
    assert status == STATUS_PASS, f"QEMU exit status {status} after gdb detached\n{console}"
