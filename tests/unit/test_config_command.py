"""`quarry config init` and `quarry config show` through the real CLI entry point and settings loader."""

import json
import os
from pathlib import Path

import pytest

from quarry.agent.cli.main import main
from quarry.agent.settings import Settings, load_settings, read_config_file

SECRET = "s3cret-pw"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("QUARRY_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_init_writes_every_section_commented_and_loads_back_as_the_defaults(tmp_path: Path, capsys):
    path = tmp_path / "fresh.yaml"
    assert main(["config", "init", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    assert load_settings(path, environ={}) == Settings()
    assert list(read_config_file(path)) == list(Settings.model_fields)
    text = path.read_text()
    assert "  # An external PostgreSQL (with pgvector) to use;" in text  # a field's docstring
    assert "  # one of: auto, claude, openai, offline\n  provider: auto\n" in text
    assert "  # allowed: >= 1, <= 256\n  pool_max: 8\n" in text


def test_init_refuses_an_existing_file_unless_forced_even_when_it_is_broken(tmp_path: Path, capsys):
    broken = "chunking:\n  max_tokns: 1\n"
    (tmp_path / "config.yaml").write_text(broken)  # ./config.yaml: also the file every command loads
    assert main(["config", "init"]) == 2
    assert "'config.yaml' already exists; pass --force to replace it" in capsys.readouterr().err
    assert (tmp_path / "config.yaml").read_text() == broken
    assert main(["config", "init", "--force"]) == 0
    assert load_settings(tmp_path / "config.yaml", environ={}) == Settings()


def test_show_names_the_file_and_the_variable_each_value_came_from_and_masks_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    path = tmp_path / "mine.yaml"
    path.write_text(f"chunking:\n  max_tokens: 300\ndatabase:\n  url: postgresql://alice:{SECRET}@db:5432/quarry\n")
    monkeypatch.setenv("QUARRY_DATABASE__POOL_MAX", "5")
    monkeypatch.setenv("QUARRY_DATA_DIR", str(tmp_path / "data"))

    assert main(["--config", str(path), "config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    shown = json.loads(out)
    assert shown["config_file"] == str(path)
    assert shown["data_dir"] == str(tmp_path / "data")
    rows = {row["key"]: row for row in shown["settings"]}
    assert rows["chunking.max_tokens"] == {
        "key": "chunking.max_tokens",
        "value": 300,
        "source": "file",
        "origin": str(path),
    }
    assert rows["database.pool_max"] == {
        "key": "database.pool_max",
        "value": 5,
        "source": "environment",
        "origin": "QUARRY_DATABASE__POOL_MAX",
    }
    assert rows["storage.data_dir"]["origin"] == "QUARRY_DATA_DIR"
    assert rows["database.url"]["value"] == "postgresql://alice:***@db:5432/quarry"
    assert rows["database.url"]["source"] == "file"
    assert rows["chunking.overlap_tokens"] == {
        "key": "chunking.overlap_tokens",
        "value": 32,
        "source": "default",
        "origin": None,
    }
    assert "llm.prices.claude-haiku-5-5.input" in rows  # nested sections are listed leaf by leaf

    assert main(["--config", str(path), "config", "show"]) == 0
    table = capsys.readouterr().out
    assert SECRET not in table
    assert f"config file: {path}" in table
    pool_line = next(line for line in table.splitlines() if line.startswith("database.pool_max "))
    assert pool_line.split()[1:] == ["5", "environment", "QUARRY_DATABASE__POOL_MAX"]
