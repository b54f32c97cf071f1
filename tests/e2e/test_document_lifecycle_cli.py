"""`quarry rm`, `quarry ingest --prune` and `--force` as a user runs them (issue 20: H1, H2, M6)."""

from pathlib import Path

import pytest

from tests.e2e.conftest import Cli

pytestmark = pytest.mark.slow


def _doc(title: str, *, extra: str = "", access: str = "public") -> str:
    return (
        f"---\ntitle: {title}\nauthor: Ana Ruiz\ndomain: engineering\npublished_at: 2024-05-01\n"
        f"access: [{access}]\n{extra}---\n{title} text about Quillfeather.\n"
    )


def test_claims_fail_loudly_until_forced_then_rm_and_prune_delete(cli: Cli, tmp_path: Path):
    team, other = tmp_path / "team", tmp_path / "other"
    team.mkdir()
    other.mkdir()
    (team / "handbook.md").write_text(_doc("Handbook", extra="id: handbook\n"))
    (team / "notes.md").write_text(_doc("Notes"))
    (other / "copy.md").write_text(_doc("Impostor", extra="id: handbook\n"))
    assert cli("ingest", str(team), "--quiet").returncode == 0

    claimed = cli("ingest", str(other))
    assert claimed.returncode == 1
    assert f"id 'handbook' belongs to '{team / 'handbook.md'}', another source" in claimed.stderr
    assert "pass --force to take the id over" in claimed.stderr
    assert cli("ingest", str(other), "--force", "--quiet").returncode == 0

    removed = cli("rm", "handbook")
    assert removed.returncode == 0, removed.stderr
    assert "deleted handbook  Impostor" in removed.stdout and "deleted 1 document(s)" in removed.stdout
    missing = cli("rm", "handbook")
    assert missing.returncode == 2 and "no document has the id 'handbook'" in missing.stderr

    (team / "notes.md").unlink()
    reported = cli("ingest", str(team), "--quiet")
    assert reported.returncode == 0 and "vanished" in reported.stdout and str(team / "notes.md") in reported.stderr
    pruned = cli("ingest", str(team), "--prune", "--quiet")
    assert pruned.returncode == 0 and "removed 1" in pruned.stdout
    assert "Corpus: 1 documents" in pruned.stdout, pruned.stdout
