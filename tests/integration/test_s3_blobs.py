"""The S3-compatible blob store against a local S3 server (moto's, on loopback), when the `s3` extra
and moto's server are installed; skipped otherwise (boto3 needs python-dateutil < 3, which the
locked environment's matplotlib pin does not give it)."""

import time
from collections.abc import Iterator

import pytest

pytest.importorskip("boto3", reason="the s3 extra (boto3) is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

from quarry.corpus.blobs import BlobError, S3BlobStore, blob_key  # noqa: E402
from quarry.corpus.gc import collect_garbage  # noqa: E402
from tests.support.image_corpus import png  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def s3() -> Iterator[S3BlobStore]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    store = S3BlobStore(
        "quarry-test",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store.client.create_bucket(Bucket="quarry-test")
    yield store
    server.stop()


def test_puts_are_content_addressed_idempotent_and_verified(s3: S3BlobStore):
    data = png(1)
    key = s3.put(data)
    assert key == blob_key(data) and s3.put(data) == key and s3.get(key) == data
    assert [b.key for b in s3.list()] == [key] and s3.locate(key).startswith("s3://quarry-test/quarry-blobs/")
    s3.client.put_object(Bucket="quarry-test", Key=f"quarry-blobs/{key[:2]}/{key[2:4]}/{key}", Body=b"tampered")
    with pytest.raises(BlobError, match="corrupt"):
        s3.get(key)
    s3.delete(key)
    assert not s3.exists(key)


def test_gc_deletes_unreferenced_objects(s3: S3BlobStore, db):
    kept = s3.put(png(2))
    orphan = s3.put(png(3))
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO documents (id, source, title, author, domain, published_at, access, body, content_hash)"
            " VALUES ('d', 's', 't', 'a', 'x', now(), '{public}', 'b', 'h')"
        )
        conn.execute("INSERT INTO assets VALUES ('d', 0, 'f.png', %s, 'image/png', 10, 1, 1, 'c')", (kept,))
    time.sleep(0.01)
    report = collect_garbage(db, s3, grace_seconds=0)
    assert report.deleted == 1 and s3.exists(kept) and not s3.exists(orphan)
