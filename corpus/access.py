"""The reader rule, once: a reader may read a document when their groups overlap its `access` groups.

Every form Quarry needs is produced here and nowhere else, and a property test
(tests/integration/test_access_rule.py) proves the forms agree on random groups:

- `sql_predicate`  the SQL boolean (`access && groups`) every retriever, the ledger's redaction
                   and the graph store put in their statements;
- `POLICY_SQL`     the same rule over the row-security setting, as migration 0009's policies
                   state it (`reader_groups()` reads `READER_SETTING`, set by `reader_setting`);
- `readable_mask`  the numpy form for in-memory indexes (BM25's chunk mask);
- `readable`       the Python form (the knowledge graph's per-reader views).

Empty group lists read nothing, in every form (`'{}' && x` is false in PostgreSQL).
"""

import json
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

READER_SETTING = "quarry.reader_groups"
"""The transaction setting that carries a reader's groups (a JSON array) to row-level security."""
POLICY_SQL = "access && reader_groups()"
"""The rule as migration 0009's row-security policies write it (kept equal by a test)."""


def readable(groups: Iterable[str], access: Iterable[str]) -> bool:
    """Whether a reader with `groups` may read something whose access groups are `access`."""
    return not set(groups).isdisjoint(access)


def readable_mask(groups: Iterable[str], access_sets: Sequence[Collection[str]]) -> npt.NDArray[np.bool_]:
    """Boolean array: for each access set, whether `groups` may read it."""
    wanted = frozenset(groups)
    return np.fromiter((not wanted.isdisjoint(s) for s in access_sets), dtype=np.bool_, count=len(access_sets))


def sql_predicate(
    groups: Iterable[str], *, column: str = "access", param: str = "f_groups"
) -> tuple[str, dict[str, Any]]:
    """SQL boolean over a `text[]` column (optionally qualified, e.g. "c.access") and its named parameter."""
    return f"{column} && %({param})s::text[]", {param: list(groups)}


def reader_setting(groups: Iterable[str]) -> str:
    """The value of READER_SETTING for `groups`: JSON, so no group name can smuggle in a separator."""
    return json.dumps(list(groups))


def group_set(groups: Iterable[str]) -> list[str]:
    """The reader's groups as a set in canonical order: readers with the same set share a cache scope."""
    return sorted(set(groups))
