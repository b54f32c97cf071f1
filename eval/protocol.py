"""The honest protocol: whatever is chosen is chosen on one part of the queries and reported on another.

- `kfold`: deterministic folds over query ids (a seeded shuffle, then round-robin).
- `select_kfold`: within one set, for each fold choose the configuration with the best mean on the
  other folds and score the fold with it; every reported query was scored by a configuration that
  never saw it.
- `select_leave_one_out`: across sets, choose on every other set (macro mean of their primary
  metric) and score the held-out set with it.
- `bootstrap_ci`: percentile bootstrap 95% interval of a mean over queries.
"""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from quarry.errors import DatasetError

# Per configuration name, per query id: the metric value of that query under that configuration.
ScoreTable = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True, kw_only=True)
class HeldOut:
    """Held-out scores of a selection procedure and which configuration scored each query."""

    scores: dict[str, float]
    """Query id → metric under the configuration chosen without it."""
    chosen: dict[str, str]
    """Query id → the configuration that scored it."""
    choices: list[dict[str, object]]
    """One record per selection: the part it was chosen on, the part it was reported on, the winner."""


def kfold(query_ids: Sequence[str], k: int, seed: int) -> list[list[str]]:
    """Split ids into k disjoint folds, the same for the same ids and seed whatever their input order."""
    if k < 2:
        raise DatasetError(f"k-fold needs k >= 2 (got {k}): use --folds 2 or more")
    if len(set(query_ids)) < k:
        raise DatasetError(f"{len(set(query_ids))} queries cannot fill {k} folds: lower --folds or raise --limit")
    ordered = sorted(set(query_ids))
    random.Random(seed).shuffle(ordered)
    return [sorted(ordered[i::k]) for i in range(k)]


def best_config(table: ScoreTable, query_ids: Sequence[str]) -> str:
    """Highest mean over the given queries; ties go to the first name in sorted order (deterministic)."""
    if not table:
        raise DatasetError("no configurations to choose from")
    return max(sorted(table), key=lambda name: float(np.mean([table[name][q] for q in query_ids])))


def select_kfold(table: ScoreTable, query_ids: Sequence[str], *, k: int, seed: int) -> HeldOut:
    scores: dict[str, float] = {}
    chosen: dict[str, str] = {}
    choices: list[dict[str, object]] = []
    folds = kfold(query_ids, k, seed)
    for index, fold in enumerate(folds):
        train = [q for other, part in enumerate(folds) if other != index for q in part]
        winner = best_config(table, train)
        for q in fold:
            scores[q] = table[winner][q]
            chosen[q] = winner
        choices.append(
            {"fold": index, "chosen_on_queries": len(train), "reported_queries": len(fold), "config": winner}
        )
    return HeldOut(scores=scores, chosen=chosen, choices=choices)


def select_leave_one_out(tables: Mapping[str, ScoreTable], held_out: str) -> HeldOut:
    """Choose on every set but `held_out` (each set weighs the same), report on `held_out`."""
    others = [name for name in sorted(tables) if name != held_out]
    if not others:
        raise DatasetError(f"leave-one-dataset-out needs a second set besides '{held_out}'")
    configs = sorted(set.intersection(*(set(tables[name]) for name in tables)))

    def macro(config: str) -> float:
        return float(np.mean([np.mean(list(tables[name][config].values())) for name in others]))

    winner = max(configs, key=macro)
    scores = dict(tables[held_out][winner])
    return HeldOut(
        scores=scores,
        chosen=dict.fromkeys(scores, winner),
        choices=[{"chosen_on_sets": others, "reported_set": held_out, "config": winner}],
    )


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, resamples: int = 2000) -> tuple[float, float, float]:
    """Mean and the 2.5/97.5 percentiles of the means of `resamples` resamples with replacement."""
    if not values:
        return 0.0, 0.0, 0.0
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(data.mean()), float(low), float(high)
