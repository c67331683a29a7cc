"""Record ACPI tables exactly as the guest sees them in memory.

Boots build/kernel.elf (PVH, -kernel) on each machine given, asks the
kernel's `acpi` shell command where each table is, and saves the FACP and
the DSDT with QMP `pmemsave` into test/host/data/MACHINE-facp.dat and
MACHINE-dsdt.dat. Run from the project root:

    /usr/bin/python3 test/host/data/record_acpi.py pc q35 microvm
"""

import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "qemu"))

import qemu  # noqa: E402


def record(machine, tmpdir):
    sock = os.path.join(tmpdir, machine + ".qmp")
    vm = qemu.Qemu(machine=machine, kernel=qemu.KERNEL, append="", timeout=60, tmpdir=tmpdir,
                   devices=["-qmp", f"unix:{sock},server=on,wait=off"])
    try:
        vm.start()
        vm.expect_exact(qemu.PROMPT)
        vm.sendline("acpi")
        vm.expect_exact(qemu.PROMPT)
        listing = vm.child.before.replace("\r", "")
        for sig in ("FACP", "DSDT"):
            m = re.search(rf"^{sig} (0x[0-9a-f]+)\s+(\d+)", listing, re.M)
            assert m, f"{machine}: no {sig} in the `acpi` listing:\n{listing}"
            path = os.path.join(HERE, f"{machine}-{sig.lower()}.dat")
            reply = qemu.qmp(sock, {"execute": "pmemsave", "arguments": {
                "val": int(m.group(1), 16), "size": int(m.group(2)), "filename": path}})
            assert "return" in reply[0], reply
            with open(path, "rb") as f:
                data = f.read()
            assert sum(data) % 256 == 0, f"{path}: checksum wrong"
            print(f"{path}: {len(data)} bytes from {m.group(1)}")
    finally:
        vm.close()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for machine in sys.argv[1:] or ["pc", "q35", "microvm"]:
            record(machine, tmp)
