"""How the CLI names a citation's place: `[2] Buoy survey 2024 — reports/survey.pdf p. 14`."""

from pathlib import Path

from quarry.graph.answer import Citation


def shown_source(source: str) -> str:
    """The source as typed relative to the working folder when it lies under it, else as stored."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


def citation_line(citation: Citation) -> str:
    return f"[{citation.number}] {citation.title} — {shown_source(citation.source)} {citation.location()}"
