"""The blob store runs out of room mid-ingest (eval/disk_full.py: a file-size limit, EFBIG, or a full
tmpfs, ENOSPC): `quarry ingest` refuses the documents whose images do not fit, naming each and the
cause, stores the rest, leaves no row without its blob and no partial file behind; a re-run once
there is room stores everything."""

import uuid
from pathlib import Path

import pytest

from tests.support.disk_full import CAUSE, CannotFillDisk, run_disk_full


@pytest.mark.parametrize("how", ["file-size-limit", "full-filesystem"])
def test_a_full_blob_store_refuses_whole_documents_and_loses_nothing(how, pg_url: str, tmp_path: Path):
    try:
        outcome = run_disk_full(how, pg_url, f"full_{uuid.uuid4().hex[:10]}", tmp_path)
    except CannotFillDisk as exc:
        pytest.skip(f"{exc} (the file-size-limit case covers the same code path)")
    assert outcome.exit_code == 1 and not outcome.traceback, outcome.stderr
    assert outcome.refused and set(outcome.refused) <= set(outcome.with_images), outcome.stderr
    assert "cannot write blob" in outcome.stderr and CAUSE[how] in outcome.stderr, outcome.stderr
    stored = outcome.stored_when_full
    assert set(outcome.text_only) <= set(stored), "documents without images are stored"
    assert not set(outcome.refused) & set(stored), "a refused document left no rows"
    assert all(stored[doc] == 2 for doc in outcome.with_images if doc in stored), (
        "stored documents have all their images"
    )
    assert outcome.partial_files == 0, "no partial blob file is left behind"
    assert outcome.exit_code_with_room == 0 and outcome.data_lost == 0, outcome.stored_with_room
