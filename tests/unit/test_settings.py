from pathlib import Path

import pytest

from quarry.agent.settings import load_settings
from quarry.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_config_is_valid_and_matches_the_defaults():
    from quarry.agent.settings import Settings

    assert load_settings(REPO / "config.yaml", environ={}) == Settings()


def test_misspelt_key_names_its_path_and_the_allowed_keys(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("chunking:\n  max_tokns: 100\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (
        f"invalid configuration in {path}:\n  chunking.max_tokns: unknown key; allowed here: max_tokens, overlap_tokens"
    )


def test_out_of_range_value_names_key_bound_and_value(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("database:\n  pool_max: 0\n")
    with pytest.raises(ConfigError, match=r"database.pool_max: Input should be greater than or equal to 1 \(got 0\)"):
        load_settings(path, environ={})


def test_cross_field_rule(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"overlap_tokens \(300\) must be smaller than max_tokens \(256\)"):
        load_settings(None, overrides={"chunking.overlap_tokens": 300}, environ={})


def test_environment_overrides_file_and_flags_override_environment(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("chunking:\n  max_tokens: 100\n")
    env = {
        "QUARRY_CHUNKING__MAX_TOKENS": "200",
        "QUARRY_DATA_DIR": str(tmp_path / "d"),
        "QUARRY_DATABASE_URL": "postgresql://x@h/db",
    }
    loaded = load_settings(path, environ=env)
    assert loaded.chunking.max_tokens == 200
    assert loaded.data_dir == tmp_path / "d"
    assert loaded.database.url == "postgresql://x@h/db"
    assert load_settings(path, overrides={"chunking.max_tokens": 300}, environ=env).chunking.max_tokens == 300


def test_bad_environment_value_says_which_variable(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"\(from environment QUARRY_CHUNKING__MAX_TOKENS\)"):
        load_settings(None, environ={"QUARRY_CHUNKING__MAX_TOKENS": "many"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("chunking: [1, 2", "is not valid YAML at line"),
        ("- just\n- a list\n", "must be a mapping of sections, got list"),
    ],
)
def test_unreadable_config_files(tmp_path: Path, content: str, message: str):
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"config file '.*nope.yaml' does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_one_table_of_short_names_serves_the_environment_and_overrides(tmp_path: Path):
    from quarry.agent.settings import SHORT_NAMES, setting_key

    environ = {
        "QUARRY_DATA_DIR": str(tmp_path),
        "QUARRY_DATABASE_URL": "postgresql://db/q",
        "QUARRY_PROVIDER": "offline",
    }
    from_env = load_settings(None, environ=environ)
    from_overrides = load_settings(
        None,
        overrides={setting_key(name): value for name, value in zip(SHORT_NAMES, environ.values())},
        environ={},
    )
    assert from_env == from_overrides
    assert (from_env.data_dir, from_env.database.url, from_env.llm.provider) == (
        tmp_path.resolve(),
        "postgresql://db/q",
        "offline",
    )
    assert setting_key("research__history_turns") == "research.history_turns"


def test_the_removed_rerank_keep_key_says_what_to_do(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  rerank:\n    keep: 10\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value) == (
        f"invalid configuration in {path}:\n  retrieval.rerank.keep: removed: it never took effect; delete it "
        "(research.keep_per_query sets how many reranked passages each search keeps)"
    )


def test_graph_expansion_depth_is_not_called_hops_but_old_configs_still_load(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("retrieval:\n  graph:\n    max_hops: 1\n")
    settings = load_settings(path, environ={})
    assert settings.retrieval.graph.max_depth == 1 and "max_hops" not in type(settings.retrieval.graph).model_fields
    assert settings.research.budget.max_hops == 3, "the research loop's hops are another setting"
