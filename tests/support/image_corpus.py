"""Documents with images for the multi-modal tests, and the all-or-nothing invariant they check."""

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from quarry.corpus.blobs import LocalBlobStore, blob_key
from quarry.corpus.db import Database


def png(seed: int, size: tuple[int, int] = (32, 24)) -> bytes:
    """A small, valid PNG whose bytes differ per seed."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.putpixel((seed % size[0], (seed // size[0]) % size[1]), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Version:
    """One submitted version of a document: what must be stored, whole, if it is the one that won."""

    doc_id: str
    text_marker: str
    blob_keys: tuple[str, ...]


def write_markdown(
    folder: Path, doc_id: str, *, images: int, seed: int, published_at: str = "2024-03-12T09:00:00Z"
) -> Version:
    """`folder/<doc_id>.md` referencing `images` PNGs written beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = f"[marker {doc_id} {seed}]"
    keys, refs = [], []
    for n in range(images):
        data = png(seed * 10 + n)
        name = f"{doc_id}-{seed}-{n}.png"
        (folder / name).write_bytes(data)
        keys.append(blob_key(data))
        refs.append(f"![Figure {n} of {doc_id} version {seed}]({name})")
    (folder / f"{doc_id}.md").write_text(
        f"---\nid: {doc_id}\ntitle: Report {doc_id}\nauthor: Ops\ndomain: engineering\npublished_at: {published_at}\n"
        f"access: [public]\n---\n# Report {doc_id}\n\nThis report carries {marker}.\n\n" + "\n\n".join(refs) + "\n"
    )
    return Version(doc_id, marker, tuple(keys))


def stored(db: Database, doc_id: str) -> tuple[str, list[str], int] | None:
    """(body, asset blob keys in order, caption chunks) of a stored document, or None."""
    with db.transaction() as conn:
        row = conn.execute("SELECT body FROM documents WHERE id = %s", (doc_id,)).fetchone()
        if row is None:
            orphans = conn.execute(
                "SELECT (SELECT count(*) FROM chunks WHERE document_id = %(d)s) + (SELECT count(*) FROM assets WHERE document_id = %(d)s) AS n",
                {"d": doc_id},
            ).fetchone()["n"]
            assert orphans == 0, f"{doc_id}: rows without their document"
            return None
        keys = [
            r["blob_key"]
            for r in conn.execute("SELECT blob_key FROM assets WHERE document_id = %s ORDER BY ordinal", (doc_id,))
        ]
        captions = conn.execute(
            "SELECT count(*) AS n FROM chunks WHERE document_id = %s AND asset_ordinal IS NOT NULL", (doc_id,)
        ).fetchone()["n"]
    return row["body"], keys, captions


def assert_whole_or_absent(
    db: Database, blobs: LocalBlobStore, versions: dict[str, list[Version]]
) -> dict[str, Version | None]:
    """Every document is absent or exactly one submitted version, with every image readable and
    hashing to its key; returns which version each document holds."""
    held: dict[str, Version | None] = {}
    for doc_id, candidates in versions.items():
        found = stored(db, doc_id)
        if found is None:
            held[doc_id] = None
            continue
        body, keys, captions = found
        matches = [v for v in candidates if v.text_marker in body]
        assert len(matches) == 1, f"{doc_id}: stored text matches {len(matches)} submitted versions"
        version = matches[0]
        assert tuple(keys) == version.blob_keys, f"{doc_id}: images of another version or missing"
        assert captions == len(keys), f"{doc_id}: {captions} caption chunks for {len(keys)} images"
        for key in keys:
            assert blob_key(blobs.get(key)) == key  # get() also verifies; a missing blob raises
        held[doc_id] = version
    return held


def assert_no_orphans(db: Database, blobs: LocalBlobStore) -> None:
    with db.transaction() as conn:
        referenced = {r["blob_key"] for r in conn.execute("SELECT blob_key FROM assets")}
    on_disk = {b.key for b in blobs.list()}
    assert on_disk == referenced, (
        f"orphans: {sorted(on_disk - referenced)[:3]}, missing: {sorted(referenced - on_disk)[:3]}"
    )
    assert not list(blobs.root.glob("??/??/.incoming-*")), "temporary files survived gc"
