"""Output that is always valid UTF-8, whatever the names in it and the terminal's encoding.

Names read from tar headers, git and Dockerfiles are decoded as UTF-8 with
`surrogateescape`, so a byte that is not valid UTF-8 survives as a lone surrogate
(U+DC80..U+DCFF). Such a string cannot be written as UTF-8. Before output, a string that holds
any of them is escaped, reversibly:

- each undecodable byte becomes `\\xNN` (two lowercase hex digits), as Python's
  `backslashreplace` and git's quoting write it;
- a backslash already in that string is doubled, so `\\xNN` is never ambiguous within it;
- any other lone surrogate becomes `\\uDXXX`.

Strings that are valid UTF-8 are written unchanged. JSON is always written as UTF-8 bytes
(RFC 8259 requires it), even under PYTHONIOENCODING=ascii. Text for people escapes each name
the same way (reports call `escape_text` per name, so a backslash in a valid name is never
doubled) and uses the terminal's encoding, with `\\uXXXX` (`\\UXXXXXXXX` past U+FFFF) for a
character it cannot show: never `\\xNN`, which stands for an undecodable byte only.
"""

from __future__ import annotations

import codecs
import json
import sys

TEXT_ERRORS = "layerlens-text"


def _text_error(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler for text output: a lone surrogate from an undecodable byte left
    in the text becomes `\\xNN`, a character the encoding lacks `\\uXXXX`/`\\UXXXXXXXX`."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o > 0xFFFF:
            out.append(f"\\U{o:08x}")
        else:
            out.append(f"\\u{o:04x}")
    return "".join(out), exc.end


codecs.register_error(TEXT_ERRORS, _text_error)


def encode_text(text: str, encoding: str = "utf-8") -> bytes:
    """TEXT (a report for people, names already escaped by `escape_text`) as ENCODING bytes,
    any byte or character left over escaped by `_text_error`."""
    return text.encode(encoding, TEXT_ERRORS)


def escape_text(s: str) -> str:
    """S with undecodable bytes as `\\xNN` (see the module doc); S itself when valid."""
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        pass
    out = []
    for ch in s:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c not in (0x09, 0x0A)}


def safe_text(s: str) -> str:
    """S for a terminal, a log or a report file: undecodable bytes as `\\xNN` (as
    `escape_text`), and control characters other than tab and newline as `\\xNN`, so a
    file name cannot move the cursor, clear the screen or forge an annotation line."""
    return escape_text(s).translate(_CONTROL)


def quoted(s: str) -> str:
    """S in single quotes for a message, escaped as `safe_text` does. Unlike `repr`, an
    undecodable byte reads `\\xNN` (the one escape this module documents), never `\\udcNN`."""
    return f"'{safe_text(s)}'"


def clean(doc: object) -> object:
    """DOC (dicts, lists, tuples, scalars) with every string and key passed through
    `escape_text`. Returns new containers; DOC is not changed."""
    if isinstance(doc, str):
        return escape_text(doc)
    if isinstance(doc, dict):
        return {(escape_text(k) if isinstance(k, str) else k): clean(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [clean(v) for v in doc]
    return doc


def dumps(doc: object, *, indent: int | None = 2) -> str:
    """DOC as JSON text that encodes to valid UTF-8, ending with a newline: exactly
    `json.dumps(clean(doc), indent=indent, ensure_ascii=False)`, made faster.

    The standard library indents in pure Python (1.2 s for rails' 10 MB report): the text is
    written compactly by its C encoder, then indented by `msgspec.json.format`, which copies
    every token (numbers included) and lays out whitespace as `json.dumps` does. `clean`
    walks the document only when some string is not valid UTF-8 (a lone surrogate makes
    the compact text unencodable); NaN and infinities, which are not JSON and which
    msgspec will not read back, take the plain path."""
    import msgspec

    if indent is None:
        return json.dumps(clean(doc), ensure_ascii=False) + "\n"
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        doc = clean(doc)
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        return msgspec.json.format(data, indent=indent).decode("utf-8") + "\n"
    except msgspec.DecodeError:
        return json.dumps(clean(doc), indent=indent, ensure_ascii=False) + "\n"


def write_stdout(text: str, *, utf8: bool) -> None:
    """Write TEXT to standard output: as UTF-8 bytes when UTF8 (JSON), else in the stream's
    own encoding with undecodable bytes escaped and unencodable characters as `\\uXXXX`."""
    stream = sys.stdout
    buf = getattr(stream, "buffer", None)
    if utf8:  # already cleaned by `dumps`; a stray surrogate still becomes a JSON escape
        data = text.encode("utf-8", "backslashreplace")
    else:
        # not escape_text over the whole report: that would double the backslashes of
        # every valid name as soon as one name held an undecodable byte
        data = encode_text(text, stream.encoding or "utf-8")
    if buf is None:  # a text-only stream (some test captures): it takes str
        stream.write(data.decode(stream.encoding or "utf-8", "replace"))
        return
    stream.flush()
    buf.write(data)
    buf.flush()
