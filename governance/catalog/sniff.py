"""What a document upload is, told by its content (pure: no Django, so it is tested alone).

Accepted: PDF, DOCX (an Office Open XML word-processing package without macros), Markdown
and plain text (UTF-8). The name's extension must agree with the content, so a PDF named
`policy.md` or a script named `policy.pdf` is refused. Anything else (an executable, an
HTML page named `.html`, a zip that is not a DOCX, a zip whose entries would inflate past
the bound) is refused before anything is stored. Nothing is ever rendered: Markdown that
contains HTML is stored as it is and only served as a download (catalog/views.py).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARKDOWN = "text/markdown; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

# extension -> the content type its content must have
EXTENSIONS = {"pdf": PDF, "docx": DOCX, "md": MARKDOWN, "markdown": MARKDOWN, "txt": TEXT}
ACCEPTED = "PDF (.pdf), Word (.docx), Markdown (.md) or plain UTF-8 text (.txt)"

# A DOCX is a zip: bound what its entries claim to inflate to, and how many there are, so a
# zip bomb is refused from its directory alone (nothing is ever extracted).
MAX_ZIP_ENTRIES = 2000
MAX_INFLATED_RATIO = 100

ERR_EXTENSION = "file: {name!r} is not an accepted document; upload " + ACCEPTED + "."
ERR_CONTENT = "file: {name!r} is named .{ext} but its content is {found}; upload " + ACCEPTED + "."
ERR_ZIP_BOMB = "file: {name!r} would inflate to more than {limit:,} bytes; it is refused unopened."
ERR_MACROS = "file: {name!r} contains macros (word/vbaProject.bin); upload a .docx without macros."


class DocumentRefused(ValueError):
    """The upload is not an accepted document; the message names the field and what is accepted."""


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _docx_problem(data: bytes, *, name: str, max_inflated: int) -> str | None:
    """None when `data` is a DOCX package within the bounds, else why not (a message)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return ERR_CONTENT.format(name=name, ext="docx", found="not a readable zip package")
    inflated = sum(i.file_size for i in infos)
    if len(infos) > MAX_ZIP_ENTRIES or inflated > max_inflated or inflated > MAX_INFLATED_RATIO * max(len(data), 1):
        return ERR_ZIP_BOMB.format(name=name, limit=min(max_inflated, MAX_INFLATED_RATIO * len(data)))
    names = {i.filename for i in infos}
    if "word/vbaProject.bin" in names:
        return ERR_MACROS.format(name=name)
    if not {"[Content_Types].xml", "word/document.xml"} <= names:
        return ERR_CONTENT.format(name=name, ext="docx", found="a zip that is not a Word document")
    return None


def describe(data: bytes) -> str:
    """A reader's words for what the content is, for a refusal."""
    if data.startswith(b"%PDF-"):
        return "a PDF"
    if data.startswith(b"PK\x03\x04"):
        return "a zip package"
    if data.startswith(b"MZ") or data.startswith(b"\x7fELF") or data.startswith(b"#!"):
        return "a program"
    if _is_text(data):
        return "text"
    return "of an unknown type"


def sniff(data: bytes, *, name: str, max_inflated: int) -> Sniffed:
    """The document's content type, from its bytes, checked against its name's extension.

    Raises DocumentRefused with a message that names the field."""
    ext = _extension(name)
    expected = EXTENSIONS.get(ext)
    if expected is None:
        raise DocumentRefused(ERR_EXTENSION.format(name=name))
    if expected == PDF:
        ok = data.startswith(b"%PDF-")
    elif expected == DOCX:
        if not data.startswith(b"PK\x03\x04"):
            ok = False
        else:
            problem = _docx_problem(data, name=name, max_inflated=max_inflated)
            if problem:
                raise DocumentRefused(problem)
            ok = True
    else:
        # Text: UTF-8 without NUL bytes that is not a program (an ELF header, a "#!" script).
        ok = describe(data) == "text"
    if not ok:
        raise DocumentRefused(ERR_CONTENT.format(name=name, ext=ext, found=describe(data)))
    return Sniffed(content_type=expected, extension=ext)
