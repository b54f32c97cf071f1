"""Images attached to documents: read, checked and described before anything is written.

Accepted: PNG, JPEG, GIF and WebP, recognised by their content (not their file name) and fully
decoded once, so a truncated or corrupt file is refused at load time. SVG is refused: it is a
document format that can carry scripts, not an image Quarry can check.
"""

import io
import warnings
from dataclasses import dataclass

from quarry.corpus.blobs import blob_key

MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_PIXELS = 80_000_000
"""Decompression-bomb guard: a small file that would decode to more pixels than this is refused."""


class ImageProblem(ValueError):
    """Why bytes are not an image Quarry accepts; the message is shown after the asset's name."""


@dataclass(frozen=True)
class ImageAsset:
    """An image ready to store: its bytes, what they are, and the text that makes it searchable."""

    name: str
    """How the document refers to it (a relative path, or #N for an inline image)."""
    data: bytes
    mime: str
    width: int
    height: int
    caption: str
    caption_start: int
    """Where the caption sits in the document's text (the asset's chunk covers exactly it)."""
    caption_end: int

    @property
    def key(self) -> str:
        return blob_key(self.data)


@dataclass(frozen=True)
class CheckedImage:
    mime: str
    width: int
    height: int


def check_image(data: bytes, *, max_bytes: int) -> CheckedImage:
    """The image's type and size, or ImageProblem saying what is wrong with it."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise ImageProblem(f"is {len(data):,} bytes, over the {max_bytes:,}-byte limit (raise ingest.max_asset_bytes)")
    if not data:
        raise ImageProblem("is empty")
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:512].lower():
        raise ImageProblem("is SVG, which is not accepted (convert it to PNG)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                if kind not in MIME_TYPES:
                    raise ImageProblem(
                        f"is {kind or 'an unknown format'}, not an accepted image type (PNG, JPEG, GIF, WebP)"
                    )
                if width * height > MAX_PIXELS:
                    raise ImageProblem(f"is {width}×{height} pixels, over the {MAX_PIXELS:,}-pixel limit")
                image.load()  # decodes every byte: a truncated or corrupt file fails here
    except ImageProblem:
        raise
    except UnidentifiedImageError:
        if _looks_like_image(data):
            raise ImageProblem("is corrupt or truncated (its header says image, its content does not decode)") from None
        raise ImageProblem("is not an image Quarry can read (PNG, JPEG, GIF or WebP)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem(f"is corrupt or truncated ({exc})") from None
    return CheckedImage(MIME_TYPES[kind], width, height)


def _looks_like_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    )
