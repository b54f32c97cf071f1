"""The chosen PDF reader on the real sample files of ../shared/data/pdf-samples (skipped when absent):
right-to-left Arabic in logical order, two columns in reading order, line-end hyphens joined, and
the encrypted and unreadable samples refused in one line."""

import os
from pathlib import Path

import pytest

from quarry.corpus.loaders import Refusal, load_paths
from quarry.corpus.metadata import SourceDocument
from tests.conftest import SHARED_DATA

SAMPLES = Path(os.environ.get("QUARRY_SHARED_DATA", SHARED_DATA)) / "pdf-samples"
DEFAULTS = {"author": "A", "domain": "d", "access": ["public"], "published_at": "2024-01-01"}

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/pdf-samples not present")


def load(name: str) -> SourceDocument | Refusal:
    [result] = list(load_paths([SAMPLES / name], defaults=DEFAULTS))
    return result


def test_arabic_reads_in_logical_order():
    document = load("015-arabic/habibi.pdf")
    assert isinstance(document, SourceDocument) and document.text == "حَبيبي habibi حَبيبي"


def test_two_columns_read_column_by_column_with_hyphens_joined():
    document = load("026-latex-multicolumn/multicolumn.pdf")
    assert isinstance(document, SourceDocument) and len(document.page_starts) == 3
    flat = " ".join(document.text.split())
    assert "consectetuer adipiscing elit. Ut purus elit, vestibulum ut, placerat ac, adipiscing vitae" in flat
    assert "adip-" not in flat and "\ufffe" not in document.text
    assert "ﬁ" not in document.text and "filled" in flat


def test_encrypted_and_unreadable_samples_are_refused():
    encrypted = load("005-libreoffice-writer-password/libreoffice-writer-password.pdf")
    assert isinstance(encrypted, Refusal) and encrypted.reason == (
        "is encrypted (pass --pdf-password, or save a copy without the password)"
    )
    broken = load("017-unreadable-meta-data/unreadablemetadata.pdf")
    assert isinstance(broken, Refusal)
    assert broken.reason == "is not a readable PDF: corrupt or truncated (PDFium: Data format error)"
