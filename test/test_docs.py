"""Links in the documentation, kept true: every file:line anchor still names
what it claims, and every relative link still leads somewhere.

The documents are docs/*.md and README.md. In each, outside fenced code
blocks and inline code, every Markdown link [text](target) is checked:

  - a line anchor, [`name`](path#Lnn) (also `name()`, and #Lnn-Lmm, which is
    checked at its first line): the file exists, resolved from the folder
    of the document, it has line nn, and that line contains `name` as a
    whole word (not as part of a longer identifier). A line anchor whose
    text is not one `name` in backticks is checked for the file and the
    line only;
  - any other relative link: the file or folder exists.
Links with a scheme (https:, mailto:) and links to a heading of the same
document (#...) are not checked.

A failure lists every stale link at once: the document and line, the link
text, the target, and what the target line says now, with the lines where
the name does appear in that file, so fixing the number is one edit.
Run with /usr/bin/python3 -m pytest test/test_docs.py.
"""

import glob
import os
import re
from urllib.parse import unquote

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
LINE_ANCHOR = re.compile(r"^L(\d+)(?:-L?\d+)?$")
CODE_NAME = re.compile(r"^`([^`]+?)(?:\(\))?`$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def documents():
    """The checked documents, as paths relative to ROOT."""
    docs = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    if os.path.exists(os.path.join(ROOT, "README.md")):
        docs.append("README.md")
    return docs


def links(text):
    """(line number, link text, target) for each link outside code."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for m in LINK.finditer(line):
            # An odd number of backticks before the link: it sits inside
            # an inline code span, where brackets are just characters.
            if line.count("`", 0, m.start()) % 2:
                continue
            yield number, m.group(1), m.group(2)


def whole_word(name, line):
    return re.search(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", line)


def where_named(name, lines):
    """Line numbers (1-based) of `lines` that contain `name` as a word."""
    return [i for i, line in enumerate(lines, 1) if whole_word(name, line)]


def problems(doc_path, text):
    """Every broken link of one document (path relative to ROOT), as
    messages; empty when all hold."""
    base = os.path.dirname(os.path.join(ROOT, doc_path))
    out = []
    for number, label, target in links(text):
        if SCHEME.match(target) or target.startswith("#"):
            continue
        path, _, fragment = target.partition("#")
        resolved = os.path.normpath(os.path.join(base, unquote(path)))
        shown = os.path.relpath(resolved, ROOT)
        where = f"{doc_path}:{number}: [{label}]({target})"
        if not os.path.exists(resolved):
            out.append(f"{where}: {shown} does not exist")
            continue
        anchor = LINE_ANCHOR.match(fragment)
        if not anchor:
            continue
        if not os.path.isfile(resolved):
            out.append(f"{where}: {shown} is a folder, a line anchor needs a file")
            continue
        with open(resolved, errors="replace") as f:
            lines = f.read().splitlines()
        line_no = int(anchor.group(1))
        if not 1 <= line_no <= len(lines):
            out.append(f"{where}: {shown} has {len(lines)} lines, no line {line_no}")
            continue
        m = CODE_NAME.match(label.strip())
        if not m:
            continue
        name = m.group(1)
        if whole_word(name, lines[line_no - 1]):
            continue
        found = where_named(name, lines)
        hint = (f"; `{name}` is on line(s) {', '.join(map(str, found[:8]))}"
                if found else f"; `{name}` is nowhere in {shown}")
        out.append(f"{where}: line {line_no} of {shown} now says "
                   f"{lines[line_no - 1].strip()!r}{hint}")
    return out


DOCS = documents()


def test_there_are_documents_to_check():
    assert "README.md" in DOCS, "README.md missing"
    assert any(d.startswith("docs" + os.sep) for d in DOCS), "no docs/*.md found"


@pytest.mark.parametrize("doc", DOCS)
def test_every_anchor_and_link_holds(doc):
    with open(os.path.join(ROOT, doc)) as f:
        text = f.read()
    bad = problems(doc, text)
    assert not bad, (f"{len(bad)} stale link(s) in {doc} (fix the line number or the "
                     "text; `grep -n NAME FILE` gives the line):\n" + "\n".join(bad))


def test_the_checker_catches_a_wrong_line_number():
    """The checker itself: a right anchor passes, a wrong line, a missing
    file, a line past the end and a missing folder are each reported."""
    target = "test/test_docs.py"
    with open(os.path.join(ROOT, target)) as f:
        lines = f.read().splitlines()
    right = next(i for i, line in enumerate(lines, 1) if line.startswith("def problems("))
    wrong = next(i for i, line in enumerate(lines, 1) if line.startswith("import glob"))
    doc = "docs/example.md"
    ok = f"See [`problems`](../{target}#L{right}) and [`problems()`](../{target}#L{right})."
    assert problems(doc, ok) == []
    stale = "\n".join([
        f"[`problems`](../{target}#L{wrong})",
        "[`x`](../no/such/file.c#L1)",
        f"[`problems`](../{target}#L{len(lines) + 10})",
        "[the tests](../no/such/folder/)",
        "`[`in_code`](../no/such/file.c#L1)` and a fenced block:",
        "```",
        "[`fenced`](../no/such/file.c#L1)",
        "```",
        "[external](https://example.org/x.c#L1) [heading](#the-floors)",
    ])
    bad = problems(doc, stale)
    assert len(bad) == 4, "\n".join(bad)
    assert f"line {wrong} of {target} now says 'import glob'" in bad[0], bad[0]
    assert f"is on line(s) {right}" in bad[0], bad[0]
    assert "no/such/file.c does not exist" in bad[1], bad[1]
    assert f"no line {len(lines) + 10}" in bad[2], bad[2]
    assert "no/such/folder does not exist" in bad[3], bad[3]
