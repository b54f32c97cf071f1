-- Row-level security as a second wall behind the access predicate every retriever puts in its SQL.
-- It binds roles that do not own the tables (the owner, who ingests, and superusers bypass it):
-- with database.row_security on, reads run as the NOLOGIN role quarry_reader with the reader's
-- groups in the transaction setting quarry.reader_groups (a JSON array, so no group name can smuggle
-- in a separator). A role that never sets it sees no rows.
CREATE FUNCTION reader_groups() RETURNS text[] LANGUAGE sql STABLE AS
$$ SELECT array(SELECT jsonb_array_elements_text(coalesce(nullif(current_setting('quarry.reader_groups', true), ''), '[]')::jsonb)) $$;

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON documents FOR SELECT USING (access && reader_groups());
ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON chunks FOR SELECT USING (access && reader_groups());
ALTER TABLE mentions ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON mentions FOR SELECT USING (access && reader_groups());
ALTER TABLE relations ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON relations FOR SELECT USING (access && reader_groups());
ALTER TABLE assets ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON assets FOR SELECT USING (EXISTS (SELECT 1 FROM documents d WHERE d.id = document_id));
ALTER TABLE entities ENABLE ROW LEVEL SECURITY;
CREATE POLICY readable ON entities FOR SELECT USING (EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = id));
