"""A small corpus of generated PDFs and HTML pages whose multi-hop question needs two PDFs: which buoy
array failed (survey.pdf, page 2), who maintains it (survey.pdf, page 3), who leads that group
(tidewatch.pdf, page 2). The HTML page answers a question of its own from a named section; waves.pdf
holds a captioned figure (an image asset) and a decorative icon."""

from pathlib import Path

from tests.support.document_files import make_pdf, make_pdf_with_figure, page_html

QUESTION = "Who leads the group that maintains the buoy array that failed in the March 2024 storm?"
HTML_QUESTION = "How often does the harbour office sample the water?"
DEFAULTS = {"domain": "oceans", "access": ["public"]}

_FILLER = (
    "Coastal monitoring relies on moored instruments.\n"
    "Each station records temperature, salinity and wave height.\n"
    "Readings are sent to shore every ten minutes."
)


def write_document_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    make_pdf(
        folder / "survey.pdf",
        [
            "Buoy survey 2024\n" + _FILLER,
            "Storm damage.\nDuring the March 2024 storm the Skerry-7 buoy array failed.\n"
            "Its mooring line parted and the array drifted for two days.",
            "Maintenance.\nThe Skerry-7 buoy array is maintained by the Tidewatch group.\n"
            "Spare moorings are kept at the north pier.",
        ],
        title="Buoy survey 2024",
        author="Mira Holt",
    )
    make_pdf(
        folder / "tidewatch.pdf",
        [
            "Tidewatch group annual report\n" + _FILLER,
            "People.\nThe Tidewatch group is led by Ines Aalto.\nShe joined the group in 2019 as a field engineer.",
        ],
        title="Tidewatch group annual report",
        author="Ola Berg",
    )
    make_pdf_with_figure(folder / "waves.pdf", title="Wave report", author="Mira Holt")
    (folder / "harbour.html").write_text(
        page_html(
            "Harbour office",
            [
                ("Opening hours", "The harbour office opens at seven every weekday."),
                ("Sampling", "The harbour office samples the water every Thursday at high tide."),
            ],
            author="Per Lund",
            published="2024-04-02T09:00:00Z",
        )
    )
    return folder
