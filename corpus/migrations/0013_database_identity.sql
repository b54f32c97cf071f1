-- A random id minted when the schema is created: with the cluster's system identifier and the
-- database's OID and name it forms the database identity that per-process indexes (BM25's file
-- under the data dir) are keyed on, so a recreated database or a second one sharing the data dir
-- never serves another's index.
ALTER TABLE corpus_state ADD COLUMN instance_id uuid NOT NULL DEFAULT gen_random_uuid();
