"""The reader rule's forms agree: the SQL predicate, the row-security policy's expression, the numpy
mask and the Python predicate admit the same documents for any reader, in real PostgreSQL."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quarry.corpus import access
from quarry.corpus.db import Database

# Few common names so that groups overlap often, plus arbitrary text (PostgreSQL text holds no NUL):
# commas, quotes and braces must not change the answer of any form.
GROUP = st.one_of(
    st.sampled_from(["public", "eng", "Eng", "security", "é", "a,b", '"q"', "{x}", ""]),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5),
)
GROUPS = st.lists(GROUP, max_size=4)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reader=GROUPS, documents=st.lists(GROUPS, max_size=12))
def test_sql_numpy_and_python_forms_of_the_reader_rule_agree(
    db: Database, reader: list[str], documents: list[list[str]]
):
    predicate, params = access.sql_predicate(reader)
    with db.transaction() as conn:
        conn.execute("SELECT set_config(%s, %s, true)", (access.READER_SETTING, access.reader_setting(reader)))
        rows = conn.execute(
            "WITH d AS (SELECT (n - 1)::int AS i, array(SELECT jsonb_array_elements_text(a))::text[] AS access"
            "           FROM jsonb_array_elements(%(documents)s::jsonb) WITH ORDINALITY AS t(a, n))"
            f" SELECT i, {predicate} AS by_predicate, {access.POLICY_SQL} AS by_policy FROM d ORDER BY i",
            {**params, "documents": json.dumps(documents)},
        ).fetchall()
    by_predicate = [row["by_predicate"] for row in rows]
    by_policy = [row["by_policy"] for row in rows]
    by_mask = access.readable_mask(reader, [frozenset(d) for d in documents]).tolist()
    by_python = [access.readable(reader, d) for d in documents]
    assert len(rows) == len(documents)
    assert by_predicate == by_policy == by_mask == by_python
