"""One store per table family: every table the migrations create is owned by exactly one module
(its `TABLES`), and no other module of the package names it in SQL."""

import ast
import re
from pathlib import Path

import pytest

from quarry.corpus import access

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "graph", "tools", "corpus", "eval")
MIGRATIONS = REPO / "corpus" / "migrations"
# Where SQL names a table: after these keywords (upper case, as all of Quarry's SQL is written; prose
# in lower case is not SQL), or as a regclass literal.
_TABLE_REFERENCE = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|ANALYZE|ON)\s+(?:ONLY\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?\"?(\w+)\"?"
    r"|'(\w+)'::regclass"
)
_SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|ANALYZE|WITH|CREATE|ALTER)\b")


def _created_tables() -> set[str]:
    text = "\n".join(path.read_text() for path in sorted(MIGRATIONS.glob("*.sql")))
    return set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", text))


def _sources() -> dict[str, ast.Module]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            module = "quarry." + ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[module.removesuffix(".__init__")] = ast.parse(path.read_text(), filename=str(path))
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings (prose, not SQL)."""
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    ids.add(id(statement.value))
    return ids


def _sql_strings(tree: ast.Module) -> list[str]:
    """String literals (f-string parts joined) that read as SQL."""
    skip = _docstrings(tree)
    strings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " {} " for v in node.values)
            skip.update(id(v) for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if _SQL_WORDS.search(text):
            strings.append(text)
    return strings


def _owners(sources: dict[str, ast.Module]) -> dict[str, list[str]]:
    owners: dict[str, list[str]] = {}
    for module, tree in sources.items():
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "TABLES" for t in node.targets)
                and isinstance(node.value, ast.Tuple)
            ):
                for element in node.value.elts:
                    owners.setdefault(ast.literal_eval(element), []).append(module)
    return owners


SOURCES = _sources()
OWNERS = _owners(SOURCES)


def test_every_table_is_owned_by_exactly_one_store():
    tables = _created_tables()
    assert tables, "no CREATE TABLE found in the migrations"
    unowned = sorted(t for t in tables if t not in OWNERS)
    shared = {t: m for t, m in OWNERS.items() if len(m) > 1}
    ghosts = sorted(set(OWNERS) - tables)
    assert not unowned, f"tables no module declares in TABLES: {unowned}"
    assert not shared, f"tables declared by more than one module: {shared}"
    assert not ghosts, f"TABLES name tables no migration creates: {ghosts}"


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_only_the_owner_names_a_table_in_sql(module: str):
    tables = _created_tables()
    foreign = set()
    for sql in _sql_strings(SOURCES[module]):
        for match in _TABLE_REFERENCE.finditer(sql):
            table = match.group(1) or match.group(2)
            if table in tables and module not in OWNERS[table]:
                foreign.add(table)
    assert not foreign, f"{module} writes SQL on {sorted(foreign)}, owned by {[OWNERS[t] for t in sorted(foreign)]}"


def test_the_checker_sees_sql_on_foreign_tables():
    tree = ast.parse('x = 1\nq = f"SELECT id FROM runs r JOIN spend s ON s.run_id = r.id WHERE {x}"\n')
    names = {m.group(1) for s in _sql_strings(tree) for m in _TABLE_REFERENCE.finditer(s)}
    assert {"runs", "spend"} <= names


def test_row_security_policies_state_the_reader_rule_of_the_access_module():
    """Migration 0009's policies on tables with an `access` column say what corpus/access.py says."""
    text = (MIGRATIONS / "0009_row_security.sql").read_text()
    policies = dict(re.findall(r"CREATE POLICY readable ON (\w+) FOR SELECT USING \((.*)\);", text))
    with_access = {table for table, rule in policies.items() if "access" in rule}
    assert with_access == {"documents", "chunks", "mentions", "relations"}
    assert {policies[t] for t in with_access} == {access.POLICY_SQL}
    assert f"current_setting('{access.READER_SETTING}'" in text
