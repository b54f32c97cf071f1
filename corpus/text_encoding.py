"""Decoding text files: UTF-8 (with or without a BOM), or the encoding the user names with --encoding.

A file that is not UTF-8 is refused with the byte at fault and, when it reads as windows-1252
(a superset of Latin-1, what most legacy Western text is), the two ways to fix it.
"""

import codecs

from quarry.errors import DocumentParseError


def decode_text(data: bytes, label: str, encoding: str | None, *, hint: bool = True) -> str:
    """`hint`: on failure, say how to convert (for a whole text file, not a sidecar or a JSONL line)."""
    if encoding:
        try:
            text = data.decode(codecs.lookup(encoding).name)
        except LookupError:
            raise DocumentParseError(label, f"unknown encoding '{encoding}' given with --encoding") from None
        except UnicodeDecodeError as exc:
            raise DocumentParseError(
                label, f"not valid {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problem = f"not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            raise DocumentParseError(label, problem + (_likely_fix(data, label) if hint else "")) from None
    if "\x00" in text:
        raise DocumentParseError(label, "contains NUL bytes (binary file?)")
    return text


def _likely_fix(data: bytes, label: str) -> str:
    if b"\x00" in data:
        return ""
    try:
        data.decode("windows-1252")
    except UnicodeDecodeError:
        return ""
    return (
        f"; it reads as Latin-1/windows-1252: pass --encoding windows-1252, or convert it with "
        f"`iconv -f WINDOWS-1252 -t UTF-8 '{label}' > converted.txt`"
    )
