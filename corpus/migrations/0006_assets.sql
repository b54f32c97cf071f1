-- Images attached to documents. The bytes live in the blob store under their sha256 (blob_key);
-- the row commits in the same transaction as the document and its chunks, so a committed row's blob
-- always exists (blobs are written first) and gc deletes blobs no row references. An image's
-- caption is also a chunk (asset_ordinal set) so retrieval can find and cite it.
CREATE TABLE assets (
    document_id text NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    name        text NOT NULL,
    blob_key    text NOT NULL CHECK (blob_key ~ '^[0-9a-f]{{64}}$'),
    mime        text NOT NULL,
    bytes       integer NOT NULL CHECK (bytes > 0),
    width       integer NOT NULL,
    height      integer NOT NULL,
    caption     text NOT NULL,
    PRIMARY KEY (document_id, ordinal)
);
CREATE INDEX assets_blob_key ON assets (blob_key);

ALTER TABLE chunks ADD COLUMN asset_ordinal integer;
