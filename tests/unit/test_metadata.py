from datetime import UTC, datetime

import pytest

from quarry.corpus.metadata import validate_metadata
from quarry.errors import MetadataError

VALID = {
    "source": "/notes/q3.md",
    "title": "Q3 notes",
    "author": "Priya Raman",
    "domain": "engineering",
    "published_at": "2024-03-12T09:00:00Z",
    "access": ["public"],
}


def refuse(raw: dict, where: str = "front matter") -> MetadataError:
    with pytest.raises(MetadataError) as caught:
        validate_metadata("notes/q3.md", raw, where=where)
    return caught.value


def test_missing_author_names_document_field_and_fix():
    error = refuse({k: v for k, v in VALID.items() if k != "author"})
    assert str(error) == (
        "document 'notes/q3.md': missing required field 'author' (set it in front matter or pass --author)"
    )
    assert error.field == "author"


def test_naive_timestamp_is_refused_with_an_example_fix():
    error = refuse({**VALID, "published_at": "2024-03-12T09:00:00"})
    assert str(error) == (
        "document 'notes/q3.md': field 'published_at' has no timezone: '2024-03-12T09:00:00' "
        "(write it with an offset, e.g. 2024-03-12T09:00:00Z)"
    )


def test_empty_access_is_refused():
    error = refuse({**VALID, "access": []})
    assert str(error) == (
        "document 'notes/q3.md': field 'access' is empty "
        "(list the groups allowed to read it, e.g. access: [public], or pass --access public)"
    )


def test_title_has_no_cli_flag_so_the_fix_names_only_the_metadata_location():
    error = refuse({k: v for k, v in VALID.items() if k != "title"}, where="sidecar 'a.txt.meta.yaml'")
    assert str(error) == "document 'notes/q3.md': missing required field 'title' (set it in sidecar 'a.txt.meta.yaml')"


def test_misspelt_field_is_refused_listing_allowed_fields():
    error = refuse({**VALID, "auther": "x"})
    assert "unknown field 'auther' (allowed fields: id, source, title, author, domain" in str(error)


def test_every_problem_is_reported_at_once():
    error = refuse({"source": "s", "title": "t", "domain": "d", "published_at": "2024-03-12T09:00:00", "access": []})
    assert [p.field for p in error.problems] == ["author", "published_at", "access"]


def test_bad_group_name_is_refused():
    error = refuse({**VALID, "access": ["pub lic"]})
    assert error.field == "access" and "bad group name 'pub lic'" in str(error)


def test_date_only_means_midnight_utc_and_groups_are_normalised():
    meta = validate_metadata("d", {**VALID, "published_at": "2024-03-12", "access": "eng, public,eng"}, where="x")
    assert meta.published_at == datetime(2024, 3, 12, tzinfo=UTC)
    assert meta.access == ("eng", "public")


def test_document_id_is_stable_and_explicit_id_wins():
    first = validate_metadata("d", VALID, where="x")
    again = validate_metadata("d", dict(VALID), where="x")
    assert first.document_id() == again.document_id() and first.document_id().startswith("doc_")
    assert validate_metadata("d", {**VALID, "id": "q3"}, where="x").document_id() == "q3"
