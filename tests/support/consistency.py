"""What "no corrupted rows" means, as queries: after any fault, every one of these must find nothing.

- A closed run's totals equal the sum of its spend rows (the ledger agrees with itself).
- A closed run has its finish time and result; a run still 'running' has neither.
- Every document has its chunks, numbered 0..n-1 without gaps, each slicing the document's text.
- No account holds more than its open holds say.
"""

from quarry.corpus.db import Database

CHECKS = {
    "closed run whose totals differ from its spend rows": (
        "SELECT r.id FROM runs r LEFT JOIN spend s ON s.run_id = r.id AND s.kind = 'llm'"
        " WHERE r.status IN ('complete', 'partial')"
        " GROUP BY r.id, r.usd HAVING abs(coalesce(r.usd, 0) - coalesce(sum(s.usd), 0)) > 1e-9"
    ),
    "closed run without its finish time or result": (
        "SELECT id FROM runs WHERE status IN ('complete', 'partial') AND (finished_at IS NULL OR result IS NULL)"
    ),
    "running run with a result": "SELECT id FROM runs WHERE status = 'running' AND result IS NOT NULL",
    "document without chunks": (
        "SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id)"
    ),
    "chunk ordinals with gaps": (
        "SELECT document_id FROM chunks GROUP BY document_id HAVING max(ordinal) + 1 <> count(*)"
    ),
    "chunk whose offsets do not slice its document": (
        "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id"
        " WHERE c.asset_ordinal IS NULL AND substr(d.body, c.start_char + 1, c.end_char - c.start_char) <> c.body"
    ),
    "account whose held amount disagrees with its open holds": (
        "SELECT a.id FROM accounts a LEFT JOIN account_holds h ON h.account_id = a.id"
        " GROUP BY a.id, a.held_tokens HAVING a.held_tokens <> coalesce(sum(h.tokens), 0)"
    ),
}


def corrupted_rows(db: Database) -> dict[str, list[str]]:
    """Each broken invariant and the ids that break it; empty when the stored data is consistent."""
    found: dict[str, list[str]] = {}
    with db.transaction() as conn:
        for problem, query in CHECKS.items():
            ids = [str(next(iter(row.values()))) for row in conn.execute(query).fetchall()]
            if ids:
                found[problem] = ids
    return found
