"""One validated Settings model: config.yaml, then QUARRY_* environment variables, then overrides.

Precedence (highest first): explicit overrides (CLI flags, `Assistant.from_config(**overrides)`),
environment (any key as `QUARRY_SECTION__KEY`, or a short name: `QUARRY_DATA_DIR`,
`QUARRY_DATABASE_URL`, `QUARRY_PROVIDER`), the YAML file, the model's defaults. Unknown keys are
errors, never silent defaults.
"""

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from quarry.agent.service.config import ServiceConfig
from quarry.corpus.config import (
    ChunkingConfig,
    DatabaseConfig,
    EmbeddingConfig,
    EntityConfig,
    IngestConfig,
    StorageConfig,
)
from quarry.corpus.dsn import redact_dsn
from quarry.corpus.shown import shown, shown_name
from quarry.corpus.yaml_text import YamlProblem, load_yaml
from quarry.errors import ConfigError
from quarry.graph.config import ResearchConfig
from quarry.graph.telemetry import TelemetryConfig
from quarry.tools.config import CacheConfig, RetrievalConfig
from quarry.tools.llm.config import LLMConfig

CONFIG_ENV = "QUARRY_CONFIG"
_ENV_PREFIX = "QUARRY_"
SHORT_NAMES = {"data_dir": "storage.data_dir", "database_url": "database.url", "provider": "llm.provider"}
"""The settings people override most, by a short name: as QUARRY_<NAME> in the environment, and as a
keyword of `Assistant.from_config`."""
_RETIRED = {
    "retrieval.rerank.keep": "removed: it never took effect; delete it "
    "(research.keep_per_query sets how many reranked passages each search keeps)",
}
"""Keys that once existed, and what to do instead."""
_MAX_PROBLEMS = 12


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: StorageConfig = StorageConfig()
    database: DatabaseConfig = DatabaseConfig()
    embedding: EmbeddingConfig = EmbeddingConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    ingest: IngestConfig = IngestConfig()
    entities: EntityConfig = EntityConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    llm: LLMConfig = LLMConfig()
    research: ResearchConfig = ResearchConfig()
    cache: CacheConfig = CacheConfig()
    telemetry: TelemetryConfig = TelemetryConfig()
    service: ServiceConfig = ServiceConfig()

    @property
    def data_dir(self) -> Path:
        if self.storage.data_dir is not None:
            return self.storage.data_dir.expanduser().resolve()
        return Path(platformdirs.user_data_dir("quarry"))


def default_config_path() -> Path | None:
    """QUARRY_CONFIG, else ./config.yaml when present, else none (built-in defaults)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path("config.yaml")
    return local if local.exists() else None


def load_settings(
    path: Path | None = None, *, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Build Settings; `overrides` uses dotted keys ("database.url") or nested dicts."""
    path = path if path is not None else default_config_path()
    label = str(path) if path else "the environment and built-in defaults (no config file)"
    data = _read_yaml(path) if path else {}
    env_values = _from_environment(os.environ if environ is None else environ)
    for key, value in env_values.items():
        _set_dotted(data, key, value)
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(label, exc, env_values)) from None
    unusable = [
        f"  {key}: {problem}{_origin(key, env_values)}" for key, problem in dict(_unusable_values(settings)).items()
    ]
    if unusable:
        raise ConfigError("\n".join([f"invalid configuration in {label}:", *unusable]))
    return settings


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist (unset {CONFIG_ENV} or create it)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc}") from None
    try:
        data = load_yaml(text)
    except YamlProblem as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML{exc.at}: {exc.problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file '{path}' must be a mapping of sections, got {type(data).__name__}")
    return {
        key: {} if value is None else value for key, value in data.items()
    }  # `database:` with every key commented out


def setting_key(name: str) -> str:
    """The dotted key a short name (`data_dir`) or a `section__key` name stands for."""
    return SHORT_NAMES.get(name, name.replace("__", "."))


def _from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {key: environ[name] for key, name in environment_names(environ).items()}


def environment_names(environ: Mapping[str, str]) -> dict[str, str]:
    """The dotted key each QUARRY_* setting variable in `environ` sets, mapped to the variable's name."""
    found: dict[str, str] = {}
    for name in environ:
        if not name.startswith(_ENV_PREFIX):
            continue
        short = name[len(_ENV_PREFIX) :].lower()
        if short in SHORT_NAMES or "__" in short:
            found[setting_key(short)] = name
    return found


def read_config_file(path: Path) -> dict[str, Any]:
    """The sections a config file holds, as written (not validated); ConfigError when unreadable."""
    return _read_yaml(path)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"cannot set '{dotted}': '{part}' is not a section")
        node = child
    if isinstance(value, dict) and isinstance(node.get(parts[-1]), dict):
        for key, inner in value.items():
            _set_dotted(node, f"{parts[-1]}.{key}", inner)
    else:
        node[parts[-1]] = value


def _explain(label: str, exc: ValidationError, env_values: dict[str, str]) -> str:
    lines = [f"invalid configuration in {label}:"]
    for error in exc.errors():
        key = ".".join(shown_name(part) for part in error["loc"])
        origin = _origin(key, env_values)
        if error["type"] == "extra_forbidden" and key in _RETIRED:
            lines.append(f"  {key}: {_RETIRED[key]}{origin}")
        elif error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key{origin}; allowed here: {', '.join(_allowed_keys(error['loc']))}")
        elif _non_finite(error.get("input")):
            # inf/NaN meet a bound before anything else: say what is really wrong with them.
            lines.append(f"  {key}: must be a finite number (got {float(error['input'])}){origin}")
        else:
            reason = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            got = "" if isinstance(given, dict) else f" (got {_shown_value(key, given)})"
            lines.append(f"  {key}: {reason}{got}{origin}")
    if len(lines) > _MAX_PROBLEMS + 1:
        lines[_MAX_PROBLEMS + 1 :] = [f"  … and {len(lines) - _MAX_PROBLEMS - 1} more"]
    return "\n".join(lines)


def _non_finite(value: Any) -> bool:
    try:
        return isinstance(value, (int, float, str)) and not math.isfinite(float(value))
    except (ValueError, OverflowError):
        return False


def _origin(key: str, env_values: dict[str, str]) -> str:
    return " (from environment QUARRY_" + key.upper().replace(".", "__") + ")" if key in env_values else ""


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return list(model.model_fields)


def _unusable_values(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Values the field types let through that nothing downstream can use: inf/NaN, NUL characters,
    a data_dir naming an unknown user's home."""
    for name in type(model).model_fields:
        yield from _unusable(prefix + name, getattr(model, name))
    if isinstance(model, Settings):
        try:
            model.data_dir  # noqa: B018 (resolving the folder is the check)
        except (RuntimeError, ValueError, OSError) as exc:  # Path.expanduser: "Could not determine home directory"
            yield "storage.data_dir", f"cannot be used as a folder: {exc} (got {shown(str(model.storage.data_dir))})"


def _unusable(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        yield from _unusable_values(value, key + ".")
    elif isinstance(value, dict):
        for inner_key, inner in value.items():
            yield from _unusable(f"{key}.{inner_key}", inner)
    elif isinstance(value, (list, tuple)):
        for inner in value:
            yield from _unusable(key, inner)
    elif isinstance(value, float) and not math.isfinite(value):
        yield key, f"must be a finite number (got {value})"
    elif isinstance(value, (str, Path)) and "\x00" in str(value):
        yield key, f"contains a NUL character (got {_shown_value(key, str(value))})"


def _shown_value(key: str, value: Any) -> str:
    """A value for an error message; a connection string with its password masked."""
    if key != "database.url":
        return shown(value)
    return shown(redact_dsn(value, dsn=value)) if isinstance(value, str) else redact_dsn(shown(value))
