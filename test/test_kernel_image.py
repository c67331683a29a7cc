"""Static checks on build/kernel.elf: properties the loaders and the
interrupt code rely on, which no boot test would pinpoint when they break."""

import os
import re
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL = os.path.join(ROOT, "build", "kernel.elf")


def read_kernel():
    with open(KERNEL, "rb") as f:
        return f.read()


def program_headers(elf):
    """(type, offset, vaddr, paddr, filesz, memsz, align) for each phdr."""
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    out = []
    for i in range(phnum):
        p_type, _flags, off, vaddr, paddr, filesz, memsz, align = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        out.append((p_type, off, vaddr, paddr, filesz, memsz, align))
    return out


def notes(elf, off, size):
    """Yield (name, type, desc) for each ELF note in [off, off + size)."""
    end = off + size
    while off + 12 <= end:
        namesz, descsz, ntype = struct.unpack_from("<III", elf, off)
        off += 12
        name = elf[off:off + namesz].rstrip(b"\0").decode()
        off += (namesz + 3) & ~3
        desc = elf[off:off + descsz]
        off += (descsz + 3) & ~3
        yield name, ntype, desc


def symbol(name):
    out = subprocess.run(["nm", KERNEL], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        addr, _kind, sym = line.split()
        if sym == name:
            return int(addr, 16)
    raise AssertionError(f"symbol {name} not in kernel")


def test_no_sse_or_fpu_instructions():
    """Interrupt handlers do not save vector registers, so the kernel must
    not use them anywhere (newlib included: see mk/newlib.mk)."""
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", KERNEL],
                         capture_output=True, text=True, check=True).stdout
    bad = [l for l in dis.splitlines() if re.search(r"%[xyz]mm\d|:\s+f(i?ld|i?stp?|add|sub|mul|div)\w*\s", l)]
    assert not bad, "vector/x87 instructions in the kernel:\n" + "\n".join(bad[:20])


def test_pvh_note_is_4_byte_aligned_and_points_at_pvh_entry():
    elf = read_kernel()
    found = {}
    for p_type, off, _v, _p, filesz, _m, align in program_headers(elf):
        if p_type == 4:  # PT_NOTE
            assert align == 4, "QEMU reads the PVH note at a wrong offset unless align is 4"
            for name, ntype, desc in notes(elf, off, filesz):
                found[(name, ntype)] = struct.unpack("<Q", desc)[0]
    assert found.get(("Xen", 18)) == symbol("pvh_entry")
    assert found.get(("VirtioOS", 0x64)) == symbol("efi_entry64")


def test_multiboot2_header_in_first_32k():
    elf = read_kernel()
    pos = elf.find(struct.pack("<I", 0xE85250D6))
    assert 0 <= pos < 32768 and pos % 8 == 0
    magic, arch, length, checksum = struct.unpack_from("<IIII", elf, pos)
    assert (magic + arch + length + checksum) & 0xFFFFFFFF == 0
