"""The project's C style is whatever .clang-format says; this keeps it so.

Every tracked C file must be unchanged by clang-format (`make format` fixes
them). Generated and downloaded code lives in build/ and is not tracked."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tracked_c_files():
    out = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return out.split()


def test_every_c_file_is_clang_format_clean():
    files = tracked_c_files()
    assert files, "no C files found: is this a git checkout?"
    unformatted = []
    for path in files:
        proc = subprocess.run(["clang-format", "--dry-run", "-Werror", path], cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            unformatted.append(path)
    assert not unformatted, "run `make format`; not clang-format clean:\n" + "\n".join(unformatted)
