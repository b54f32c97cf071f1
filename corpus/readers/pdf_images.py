"""Figures inside a PDF page: the images big enough to matter that a "Figure N:" line on the same page
captions, as PNG bytes with that line's position in the document text.

The size rule: an image under 100×100 pixels in area (10,000 px) or under 32 px on a side is
decoration (bullets, rules, logos) and skipped. Images are matched to the page's caption lines in
order; an image with no caption line left is skipped too, since its caption chunk must be text
that the document holds. Pages without a caption line are never decoded.
"""

import io
import re
from dataclasses import dataclass
from typing import Any

FIGURE_LINE = re.compile(r"^(?:Figure|Fig\.)\s*\d+[.:]\s*\S.*$", re.MULTILINE)
MIN_SIDE = 32
MIN_PIXELS = 10_000


@dataclass(frozen=True, kw_only=True, slots=True)
class PageFigure:
    name: str
    png: bytes
    caption_start: int
    """In the document text: text[caption_start:caption_end] is the "Figure N: …" line."""
    caption_end: int


def page_figures(page: Any, page_text: str, page_offset: int, page_number: int) -> list[PageFigure]:
    captions = list(FIGURE_LINE.finditer(page_text))
    if not captions:
        return []
    import pypdfium2.raw as pdfium_c

    figures: list[PageFigure] = []
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        if len(figures) == len(captions):
            break
        width, height = image.get_px_size()
        if min(width, height) < MIN_SIDE or width * height < MIN_PIXELS:
            continue
        try:
            picture = image.get_bitmap(render=False).to_pil()
        except Exception:  # an image PDFium cannot decode is left out, not fatal to the document
            continue
        out = io.BytesIO()
        picture.convert("RGB" if picture.mode not in ("RGB", "RGBA", "L") else picture.mode).save(out, format="PNG")
        caption = captions[len(figures)]
        figures.append(
            PageFigure(
                name=f"page {page_number} figure {len(figures) + 1}",
                png=out.getvalue(),
                caption_start=page_offset + caption.start(),
                caption_end=page_offset + caption.end(),
            )
        )
    return figures
