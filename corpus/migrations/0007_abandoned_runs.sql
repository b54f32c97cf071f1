-- A run whose process died (SIGKILL, power loss) never closes its ledger row. Such rows are marked
-- 'abandoned' once they are older than their own deadline plus a margin: no live run can be.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('running', 'complete', 'partial', 'failed', 'abandoned'));
