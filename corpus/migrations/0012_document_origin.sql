-- Where each document was loaded from (its file; a JSONL record's file), apart from the `source` it
-- declares and citations show: a document's id belongs to its origin, a re-ingest of the same origin
-- is authoritative, and `quarry ingest --prune` / `quarry rm --source` match on it. Rows written
-- before this migration take their origin from a source that is a path (a JSONL record's `#Lnn`
-- dropped); one whose source is a URI gets '' (unknown), and the first file to ingest it adopts it.
ALTER TABLE documents ADD COLUMN origin text;
UPDATE documents SET origin = CASE WHEN source LIKE '/%' THEN regexp_replace(source, '#L[0-9]+$', '') ELSE '' END;
ALTER TABLE documents ALTER COLUMN origin SET NOT NULL;
CREATE INDEX documents_origin ON documents (origin);

-- Tags live on the document only: a tag filter joins to it instead of every chunk carrying a copy
-- (a document with thousands of tags and chunks made millions of array entries).
CREATE INDEX documents_tags_gin ON documents USING gin (tags);
DROP INDEX chunks_tags_gin;
ALTER TABLE chunks DROP COLUMN tags;
