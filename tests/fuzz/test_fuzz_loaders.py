"""Bad documents: every file the loaders are pointed at becomes a well-formed document or a refusal
naming it; never another exception. Strategies and checks are tests/support/fuzz_inputs.py's, so the
benchmark's crash count and these properties test the same thing. Each @example is an input that
once crashed, hung or slipped through."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quarry.corpus.loaders import Refusal, load_paths
from quarry.corpus.yaml_text import YamlProblem, load_yaml
from tests.support.fuzz_inputs import check_document_file, check_metadata
from tests.support.fuzz_strategies import _LAUGHS, GOOD_METADATA, GOOD_PNG, FileSet, document_files, metadata

FRONT = "---\ntitle: Ledgerline\nauthor: Priya Raman\ndomain: engineering\npublished_at: 2024-03-12T09:00:00Z\naccess: [public]\n"


def markdown(front_extra: str = "", body: str = "Ledgerline settles invoices.\n") -> FileSet:
    return FileSet({"doc.md": (FRONT + front_extra + "---\n" + body).encode()}, "doc.md")


def jsonl(*lines: str) -> FileSet:
    return FileSet({"records.jsonl": ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")}, "records.jsonl")


def record(text: str = "Tidewater forecasts demand.", **extra) -> str:
    return json.dumps({"text": text, "metadata": {**GOOD_METADATA}, **extra})


@settings(max_examples=150)
@given(document_files)
@example(markdown("published_at: 2024-13-45\n"))  # ValueError from PyYAML building a timestamp it cannot construct
@example(markdown("tags: !!int\n"))  # IndexError inside PyYAML's int constructor
@example(markdown("tags: !!timestamp soon\n"))  # AttributeError inside PyYAML
@example(markdown("tags: " + "[" * 600 + "]" * 600 + "\n"))  # RecursionError in PyYAML's composer
@example(markdown("tags: 0x" + "f" * 5000 + "\n"))  # ValueError printing a 6,000-digit int in the message
@example(markdown(_LAUGHS + "tags: *h\n"))  # billion laughs: seconds and megabytes of repr
@example(markdown('title: "a\\0b"\n'))  # NUL in metadata: accepted, then refused by PostgreSQL
@example(markdown("published_at: 0001-01-01T00:00:00+14:00\n"))  # accepted; OverflowError once compared in UTC
@example(markdown(body="![x](/dev/zero)\n"))  # read forever: a character device reports size 0
@example(jsonl(record("a\u0000b")))  # NUL in JSONL text: accepted, then refused by PostgreSQL
@example(jsonl(record("\ud800 lone surrogate")))  # UnicodeEncodeError measuring the text
@example(jsonl("1" * 5000))  # ValueError: Python's int-digits limit inside json.loads
@example(jsonl("[" * 5000 + "]" * 5000))  # RecursionError inside json.loads
@example(jsonl(record(images=[{"path": "a\u0000b.png"}])))  # ValueError: embedded null byte in the image path
@example(jsonl(record(images=[{"path": 5}])))  # a number read as the file name "5"
@example(FileSet({"records.jsonl": b"\n  \n"}, "records.jsonl"))  # no records: silently nothing
@example(FileSet({"good.png": GOOD_PNG, "good.png.meta.yaml": b'caption: "a\\0b"\n' + FRONT[4:].encode()}, "good.png"))
# ^ NUL in an image's caption: accepted, then refused by PostgreSQL
def test_every_document_file_is_accepted_well_formed_or_refused_by_name(files: FileSet):
    check_document_file(files)


@settings(max_examples=200)
@given(metadata())
@example({**GOOD_METADATA, 1: "x"})  # "invalid field '1': Keys should be strings"
@example({**GOOD_METADATA, "published_at": "9999-12-31T23:59:59-23:59"})  # OverflowError comparing it later
@example({**GOOD_METADATA, "author": "\udcfc"})  # a Latin-1 byte in a UTF-8 locale
@example({**GOOD_METADATA, "tags": [1] * 20_000})  # 20,000 problems in one message
def test_metadata_is_typed_or_every_problem_names_its_field(raw: dict):
    check_metadata(raw)


@settings(max_examples=20)
@given(st.integers(1, 3000))
@example(5000)  # RecursionError in repr() of the rejected value, building the message
def test_metadata_nested_any_depth_is_refused_with_a_short_message(depth: int):
    nested: list = []
    for _ in range(depth):
        nested = [nested]
    assert check_metadata({**GOOD_METADATA, "tags": nested}) == "refused"


@settings(max_examples=100)
@given(
    st.lists(
        st.sampled_from(
            [
                *"[]{}:,-!&*?|>'\"#%@` \n\tabc01\x01",
                "!!int ",
                "!!timestamp ",
                "!!bool ",
                "!!float ",
                "&a ",
                "*a",
                "2024-13-45",
            ]
        )
    ).map("".join)
)
@example("[" * 600 + "]" * 600)  # RecursionError in PyYAML's composer
@example("!!int ")
@example("a: !!bool maybe")
@example("\x01")
def test_yaml_text_either_loads_or_raises_yaml_problem(source: str):
    try:
        load_yaml(source)
    except YamlProblem as exc:
        assert exc.problem and (exc.at == "" or exc.at.startswith(" at line "))


def test_a_date_yaml_cannot_build_is_reported_on_its_field():
    result = check_and_load(markdown().files["doc.md"].replace(b"2024-03-12T09:00:00Z", b"2024-13-45"))
    assert result.reason == (
        "invalid field 'published_at': month must be in 1..12 (got '2024-13-45') (set it in front matter or pass --published-at)"
    )


def test_text_postgresql_cannot_store_is_refused_with_the_field():
    assert check_and_load(markdown('title: "a\\0b"\n').files["doc.md"]).reason == (
        "invalid field 'title': contains a NUL character (\\0) (got 'a\\x00b') (set it in front matter)"
    )


def test_a_device_behind_an_image_reference_is_refused_without_reading_it():
    reason = check_and_load(markdown(body="![x](/dev/zero)\n").files["doc.md"]).reason
    assert reason.startswith("image '/dev/zero' is not a readable image file inside the folder being ingested")


def check_and_load(data: bytes, name: str = "doc.md") -> Refusal:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_bytes(data)
        [result] = load_paths([Path(tmp) / name])
    assert isinstance(result, Refusal), result
    return result


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the folder stays empty
@given(name=st.text(min_size=1, max_size=40).filter(lambda n: "/" not in n and n not in (".", "..")))
@example(name="x" * 3000)  # OSError: file name too long, from Path.exists()
@example(name="a\x00b")  # ValueError: embedded null byte
def test_a_named_path_that_cannot_exist_is_refused(in_tmp: Path, name: str):
    [result] = list(load_paths([Path(name)]))
    assert isinstance(result, Refusal) and result.reason


def test_a_file_name_that_is_not_utf8_is_refused_by_name(in_tmp: Path):
    (in_tmp / os.fsdecode(b"caf\xe9.md")).write_text(FRONT + "---\nText.\n")
    [result] = list(load_paths([in_tmp]))
    assert result == Refusal("caf\udce9.md", "its name is not valid UTF-8 (rename the file)")
