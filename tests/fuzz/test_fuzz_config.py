"""Bad configuration: any config.yaml text and QUARRY_* variables load into Settings or raise
ConfigError naming the file or key; never a YAML, pydantic, Recursion or Overflow error. Each
@example is an input that once crashed or was accepted and failed later."""

from pathlib import Path

import pytest
from hypothesis import example, given, settings

from quarry.agent.settings import load_settings
from quarry.errors import ConfigError
from tests.support.fuzz_inputs import check_config
from tests.support.fuzz_strategies import _LAUGHS, config_documents, environments


@settings(max_examples=150)
@given(config_documents(), environments())
@example("research:\n  budget:\n    max_seconds: 2024-13-45\n", {})  # ValueError raised inside PyYAML
@example("chunking:\n  max_tokens: !!int\n", {})  # IndexError raised inside PyYAML
@example("chunking: " + "[" * 600 + "]" * 600 + "\n", {})  # RecursionError in PyYAML's composer
@example("entities:\n  gazetteer: [0x" + "f" * 5000 + "]\n", {})  # ValueError printing the int in the message
@example(_LAUGHS + "entities:\n  gazetteer: *h\n", {})  # billion laughs: an exponential repr in the message
@example("cache:\n  ttl_seconds: .inf\n", {})  # accepted; PostgreSQL's make_interval then fails on every ask
@example("", {"QUARRY_RETRIEVAL__FUSION__DENSE_WEIGHT": "inf"})  # accepted; inf × 0 makes fused scores NaN
@example('storage:\n  data_dir: "a\\0b"\n', {})  # accepted; ValueError from Path.resolve at start-up
@example("storage:\n  data_dir: ~nosuchuser/quarry\n", {})  # accepted; RuntimeError from Path.expanduser
@example(
    "database:\n", {"QUARRY_DATABASE__URL": "postgresql://x@h/db"}
)  # refused: the empty section "is not a section"
def test_config_loads_or_names_the_file_and_key(text: str, environ: dict[str, str]):
    check_config(text, environ)


def load(tmp_path: Path, text: str, environ: dict[str, str] | None = None):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path, environ=environ or {}), path


def test_a_date_yaml_cannot_build_is_reported_on_its_key(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "research:\n  budget:\n    max_seconds: 2024-13-45\n")
    assert str(caught.value).endswith(
        "research.budget.max_seconds: Input should be a valid number, unable to parse string as a number (got '2024-13-45')"
    )


def test_non_finite_numbers_are_refused_with_their_variable(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "cache:\n  ttl_seconds: .inf\n", {"QUARRY_RETRIEVAL__FUSION__DENSE_WEIGHT": "inf"})
    assert str(caught.value) == (
        f"invalid configuration in {tmp_path / 'config.yaml'}:\n"
        "  retrieval.fusion.dense_weight: must be a finite number (got inf)"
        " (from environment QUARRY_RETRIEVAL__FUSION__DENSE_WEIGHT)\n"
        "  cache.ttl_seconds: must be a finite number (got inf)"
    )


def test_a_data_dir_in_an_unknown_home_is_refused(tmp_path: Path):
    with pytest.raises(
        ConfigError, match=r"storage.data_dir: cannot be used as a folder: Could not determine home directory"
    ):
        load(tmp_path, "storage:\n  data_dir: ~nosuchuser/quarry\n")


def test_an_empty_section_means_its_defaults_and_takes_environment_overrides(tmp_path: Path):
    settings, _ = load(tmp_path, "database:\n", {"QUARRY_DATABASE__URL": "postgresql://x@h/db"})
    assert settings.database.url == "postgresql://x@h/db" and settings.database.pool_max == 8


def test_an_alias_bomb_gives_a_short_message(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, _LAUGHS + "entities:\n  gazetteer: *h\n")
    assert len(str(caught.value)) < 3_000 and "entities.gazetteer.0: Input should be a valid string (got [[[" in str(
        caught.value
    )
