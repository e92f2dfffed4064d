"""A document is what its content says, and its name must agree: PDF, DOCX without macros,
Markdown and plain UTF-8 text; programs, zip bombs and strangers are refused unopened."""

import io
import zipfile

import pytest

from governance.catalog.sniff import (
    DOCX,
    ERR_CONTENT,
    ERR_EXTENSION,
    ERR_MACROS,
    MARKDOWN,
    PDF,
    TEXT,
    DocumentRefused,
    sniff,
)

LIMIT = 1_000_000


def docx(extra=None, *, inflate=0):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
        for name in extra or []:
            zf.writestr(name, "x")
        if inflate:
            zf.writestr("word/media/big.bin", b"\0" * inflate)
    return buf.getvalue()


def plain_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "not a Word document")
    return buf.getvalue()


@pytest.mark.parametrize("name,data,expected", [
    ("policy.pdf", b"%PDF-1.7\n%...", PDF),
    ("policy.docx", docx(), DOCX),
    ("policy.md", "# AI policy\n\nÜber alles: fairness.\n".encode(), MARKDOWN),
    ("POLICY.MARKDOWN", b"# AI policy", MARKDOWN),
    ("roles.txt", b"Roles and responsibilities", TEXT),
    # Decided: Markdown is stored and only ever downloaded, never rendered, so HTML inside it is harmless text.
    ("page.md", b"<html><script>alert(1)</script></html>", MARKDOWN),
])
def test_accepted_documents_are_told_by_their_content(name, data, expected):
    assert sniff(data, name=name, max_inflated=LIMIT).content_type == expected


@pytest.mark.parametrize("name,data,message", [
    ("setup.exe", b"MZ\x90\x00", ERR_EXTENSION.format(name="setup.exe")),
    ("page.html", b"<script>", ERR_EXTENSION.format(name="page.html")),
    ("noextension", b"text", ERR_EXTENSION.format(name="noextension")),
    ("policy.pdf", b"MZ\x90\x00program", ERR_CONTENT.format(name="policy.pdf", ext="pdf", found="a program")),
    ("policy.md", b"\x7fELF\x02\x01\x00", ERR_CONTENT.format(name="policy.md", ext="md", found="a program")),
    ("run.txt", b"#!/bin/sh\nrm -rf /", ERR_CONTENT.format(name="run.txt", ext="txt", found="a program")),
    ("policy.md", b"%PDF-1.7\x00\xff", ERR_CONTENT.format(name="policy.md", ext="md", found="a PDF")),
    ("policy.txt", b"\xff\xfe\x00t", ERR_CONTENT.format(name="policy.txt", ext="txt", found="of an unknown type")),
    ("policy.docx", b"%PDF-1.7", ERR_CONTENT.format(name="policy.docx", ext="docx", found="a PDF")),
    ("archive.docx", plain_zip(), ERR_CONTENT.format(name="archive.docx", ext="docx", found="a zip that is not a Word document")),
    ("macro.docx", docx(["word/vbaProject.bin"]), ERR_MACROS.format(name="macro.docx")),
])
def test_anything_else_is_refused_naming_the_file_field(name, data, message):
    with pytest.raises(DocumentRefused) as exc:
        sniff(data, name=name, max_inflated=LIMIT)
    assert str(exc.value) == message
    assert str(exc.value).startswith("file: ")


def test_a_zip_bomb_is_refused_from_its_directory_without_inflating_it():
    bomb = docx(inflate=5 * LIMIT)  # zeros deflate a thousandfold: a small file claiming 5 MB
    assert len(bomb) < LIMIT
    with pytest.raises(DocumentRefused, match="would inflate to more than"):
        sniff(bomb, name="bomb.docx", max_inflated=LIMIT)
