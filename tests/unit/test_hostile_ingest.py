"""Hostile documents at the loader and the extractor (issue 20: M3, L3, H3): images confined to the
ingested folder with one refusal wording, bounded metadata and JSONL lines, bounded relations."""

import collections
import itertools
import os
import string
import tracemalloc
from pathlib import Path

import pytest

from quarry.corpus.chunking import chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.entities import OfflineExtractor
from quarry.corpus.loaders import Refusal, SourceDocument, load_paths
from tests.support.image_corpus import png

# The stated bounds (README "Documents and the metadata contract"), written out so a change to them is deliberate.
MAX_METADATA_BYTES = 65_536
NEARBY_ENTITIES = 8
MAX_CHUNK_RELATIONS = 256
MAX_DOCUMENT_RELATIONS = 4096
META = "title: T\nauthor: A\ndomain: d\npublished_at: 2024-01-01\naccess: [public]\n"


def _load(*paths: Path, **limits: int) -> list:
    return list(load_paths(list(paths), **limits))


def _reason(result: object, image: str) -> str:
    assert isinstance(result, Refusal), result
    return result.reason.replace(image, "IMAGE")


def test_images_outside_the_ingested_folder_are_refused_alike_whether_or_not_they_exist(tmp_path: Path):
    root, private = tmp_path / "corpus", tmp_path / "private"
    root.mkdir()
    private.mkdir()
    (private / "payroll.png").write_bytes(png(1))
    os.symlink(private / "payroll.png", root / "link.png")
    os.symlink(private / "gone.png", root / "dangling.png")
    targets = ["../private/payroll.png", "../private/missing.png", "/etc/shadow", "/etc/nonexistent.png"]
    targets += ["link.png", "dangling.png", "absent.png"]
    for number, target in enumerate(targets):
        (root / f"doc{number}.md").write_text(f"---\n{META}---\nBody.\n\n![chart]({target})\n")

    results = {Path(r.label).name: r for r in _load(root)}

    reasons = {_reason(results[f"doc{n}.md"], target) for n, target in enumerate(targets)}
    assert len(reasons) == 1, reasons
    assert "is not a readable image file inside the folder being ingested" in reasons.pop()


def test_an_image_inside_the_folder_still_loads_through_dot_dot_and_an_inner_symlink(tmp_path: Path):
    (tmp_path / "img").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "img" / "chart.png").write_bytes(png(2))
    os.symlink(tmp_path / "img" / "chart.png", tmp_path / "docs" / "alias.png")
    (tmp_path / "docs" / "a.md").write_text(f"---\n{META}---\n![one](../img/chart.png) ![two](alias.png)\n")
    [document] = [r for r in _load(tmp_path) if not isinstance(r, Refusal) and r.label.endswith("a.md")]
    assert isinstance(document, SourceDocument) and [a.name for a in document.assets] == [
        "../img/chart.png",
        "alias.png",
    ]


def test_oversize_front_matter_and_sidecars_are_refused_before_parsing(tmp_path: Path):
    huge = "tags: [" + ", ".join(f"t{n}" for n in range(2_000_000 // 8)) + "]\n"
    (tmp_path / "front.md").write_text(f"---\n{META}{huge}---\nBody.\n")
    (tmp_path / "side.md").write_text("Body.\n")
    (tmp_path / "side.md.meta.yaml").write_text(META + huge)

    results = {Path(r.label).name: r for r in _load(tmp_path / "front.md", tmp_path / "side.md")}

    limit = f"over the {MAX_METADATA_BYTES:,}-byte limit for metadata"
    assert isinstance(results["front.md"], Refusal) and isinstance(results["side.md"], Refusal)
    assert results["front.md"].reason.startswith("front matter is") and limit in results["front.md"].reason
    assert results["side.md"].reason.startswith("sidecar 'side.md.meta.yaml' is") and limit in results["side.md"].reason


def test_an_oversize_jsonl_line_is_refused_without_being_read_whole(tmp_path: Path):
    record = '{"text": "ok", "metadata": {"title": "T", "author": "A", "domain": "d", "published_at": "2024-01-01", "access": ["public"]}}'
    log = tmp_path / "big.jsonl"
    with log.open("w") as handle:
        handle.write(record + "\n")
        handle.write('{"text": "' + "x" * 20_000_000 + '"}\n')
        handle.write(record.replace('"ok"', '"fine"') + "\n")

    tracemalloc.start()
    results = _load(log, max_bytes=1_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert [type(r).__name__ for r in results] == ["SourceDocument", "Refusal", "SourceDocument"]
    assert results[1].reason.startswith("the line is 20,000,013 bytes, over the")
    assert peak < 8_000_000, f"peak {peak:,} bytes: the 20 MB line was held whole"


def _names(count: int) -> list[str]:
    letters = ["".join(p) for p in itertools.product(string.ascii_lowercase, repeat=4)]
    return [f"K{letters[n]}an" for n in range(count)]


def test_a_list_of_names_joined_by_and_cannot_explode_the_relations():
    text = " and ".join(_names(20_000))
    assert len(text.encode()) > 235_000  # the attack's 240 KB
    chunks = chunk_text(text, ChunkingConfig())

    extraction = OfflineExtractor().extract("Roster", text, chunks)

    per_chunk = collections.Counter(r.chunk_ordinal for r in extraction.relations if r.label != "mentions")
    assert len(extraction.relations) <= MAX_DOCUMENT_RELATIONS
    assert max(per_chunk.values()) <= MAX_CHUNK_RELATIONS
    assert len(extraction.mentions) > 19_000, "every mention is still recorded"


@pytest.mark.parametrize("count", [2, NEARBY_ENTITIES + 1, NEARBY_ENTITIES + 5])
def test_relations_in_a_sentence_pair_only_nearby_entities(count: int):
    text = ", ".join(_names(count)) + "."
    extraction = OfflineExtractor().extract("Roster", text, chunk_text(text, ChunkingConfig()))
    pairs = [r for r in extraction.relations if r.label != "mentions"]
    expected = sum(min(NEARBY_ENTITIES, count - 1 - i) for i in range(count))
    assert len(pairs) == expected
