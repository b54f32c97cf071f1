"""Finds and reads a document's images, the three ways documents carry them:

- Markdown image references `![alt](path "title")`, relative to the document's folder (or inline
  `data:image/...;base64,` URIs). Remote `http(s)://` images are left as text: Quarry does not fetch.
- A standalone image file with a sidecar `NAME.meta.yaml`: the image is the document, its
  `caption` (or title) its text.
- JSONL records with `"images": [{"path": ...} | {"data": base64}, "alt": ...]`; each image is
  appended to the record's text as a Markdown reference, so its caption has a place in the text.

Every image is read and checked here, before anything is written: a missing, oversize, corrupt or
unsupported image refuses its whole document with a message naming both. An image file must lie
inside the folder being ingested (its root) once every symlink is followed: `../private/x.png`,
`/etc/shadow` or a symlink leading out are refused, in one wording that never says whether the
path exists outside.
"""

import base64
import binascii
import re
import stat
from pathlib import Path
from typing import Any

from quarry.corpus.images import ImageAsset, ImageProblem, check_image
from quarry.corpus.storable import unstorable_character
from quarry.errors import DocumentParseError

_MARKDOWN_IMAGE = re.compile(
    r"!\[(?P<alt>[^\]\n]*)\]\(\s*(?P<target><[^>\n]+>|[^)\s]+)(?:\s+\"(?P<title>[^\"\n]*)\")?\s*\)"
)
_DATA_URI = re.compile(r"^data:(?P<mime>image/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]+)$")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def markdown_images(body: str, folder: Path, root: Path, label: str, max_bytes: int) -> tuple[ImageAsset, ...]:
    assets: list[ImageAsset] = []
    for match in _MARKDOWN_IMAGE.finditer(body):
        target = match.group("target").strip("<>")
        if _REMOTE.match(target):
            continue
        name = target if not target.startswith("data:") else f"inline image #{len(assets) + 1}"
        data = (
            _inline(target, label, name)
            if target.startswith("data:")
            else _read(folder / target, root, label, name, max_bytes)
        )
        alt = match.group("alt").strip()
        span = "alt" if alt else "target"
        caption_start, caption_end = match.span(span)
        if span == "alt":  # the caption is exactly the alt text, without surrounding spaces
            caption_start += len(match.group("alt")) - len(match.group("alt").lstrip())
            caption_end = caption_start + len(alt)
        assets.append(_asset(name, data, label, max_bytes, body[caption_start:caption_end], caption_start, caption_end))
    return tuple(assets)


def jsonl_images(
    images: Any, text: str, folder: Path, root: Path, label: str, max_bytes: int
) -> tuple[str, tuple[ImageAsset, ...]]:
    """The record's text with a Markdown reference appended per image, and the images."""
    if not isinstance(images, list):
        raise DocumentParseError(label, '\'images\' must be a list of {"path": ...} or {"data": base64} objects')
    assets: list[ImageAsset] = []
    for number, image in enumerate(images, start=1):
        if (
            not isinstance(image, dict)
            or not ({"path", "data"} & set(image))
            or set(image) - {"path", "data", "alt", "mime"}
        ):
            raise DocumentParseError(
                label, f"image #{number} must be an object with 'path' or 'data' (base64) and an optional 'alt'"
            )
        for key in ("path", "data", "alt"):
            value = image.get(key)
            if key in image and not isinstance(value, str) and not (key == "alt" and value is None):
                raise DocumentParseError(
                    label, f"image #{number}: '{key}' must be a string, got {type(value).__name__}"
                )
            if isinstance(value, str) and (bad := unstorable_character(value)):
                raise DocumentParseError(label, f"image #{number}: '{key}' contains {bad}")
        name = str(image["path"]) if "path" in image else f"image #{number}"
        if "path" in image:
            data = _read(folder / str(image["path"]), root, label, name, max_bytes)
        else:
            try:
                data = base64.b64decode(str(image["data"]), validate=True)
            except (binascii.Error, ValueError):
                raise DocumentParseError(label, f"image '{name}': 'data' is not valid base64") from None
        alt = str(image.get("alt") or Path(name).stem or name).strip() or name
        prefix = f"{text.rstrip()}\n\n![" if assets or text.strip() else "!["
        text = prefix + alt + f"]({name.replace(' ', '%20')})"
        caption_end = len(text) - len(f"]({name.replace(' ', '%20')})")
        assets.append(_asset(name, data, label, max_bytes, alt, caption_end - len(alt), caption_end))
    return text, tuple(assets)


def standalone_image(path: Path, root: Path, label: str, caption: str, max_bytes: int) -> ImageAsset:
    """The image of an image document whose text is just its caption."""
    data = _read(path, root, label, path.name, max_bytes)
    return _asset(path.name, data, label, max_bytes, caption, 0, len(caption))


def _asset(name: str, data: bytes, label: str, max_bytes: int, caption: str, start: int, end: int) -> ImageAsset:
    try:
        checked = check_image(data, max_bytes=max_bytes)
    except ImageProblem as exc:
        raise DocumentParseError(label, f"image '{name}' {exc}") from None
    return ImageAsset(name, data, checked.mime, checked.width, checked.height, caption, start, end)


def _read(path: Path, root: Path, label: str, name: str, max_bytes: int) -> bytes:
    """The bytes of the image file `path`, which must resolve (symlinks followed) to a regular file
    inside `root`. Whatever else it is (outside, missing, a folder, a device, unreadable), the refusal
    reads the same, so a document cannot probe the file system outside its root."""
    unusable = DocumentParseError(
        label,
        f"image '{name}' is not a readable image file inside the folder being ingested ('{root}'); images"
        " must be named relative to the document and may not lead out of that folder by '..', an absolute"
        " path or a symlink",
    )
    try:
        real = path.resolve(strict=True)
        if not real.is_relative_to(root) or not stat.S_ISREG(real.stat().st_mode):
            raise unusable
        size = real.stat().st_size
        if size > max_bytes:
            raise DocumentParseError(
                label,
                f"image '{name}' is {size:,} bytes, over the {max_bytes:,}-byte limit (raise ingest.max_asset_bytes)",
            )
        with real.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, RuntimeError, ValueError):  # missing, unreadable, a symlink loop, a NUL in the name
        raise unusable from None
    if len(data) > max_bytes:  # grew since it was measured
        raise DocumentParseError(label, f"image '{name}' is over the {max_bytes:,}-byte limit")
    return data


def _inline(target: str, label: str, name: str) -> bytes:
    match = _DATA_URI.match(target)
    if not match:
        raise DocumentParseError(label, f"{name} is a data: URI but not base64 image data")
    try:
        return base64.b64decode("".join(match.group("data").split()), validate=True)
    except (binascii.Error, ValueError):
        raise DocumentParseError(label, f"{name} is not valid base64") from None
