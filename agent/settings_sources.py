"""Where each effective setting came from: the built-in default, a config file, or a QUARRY_*
environment variable (`quarry config show`). Secrets are masked before anything leaves here."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from quarry.agent.settings import Settings, environment_names, read_config_file
from quarry.corpus.dsn import MASK, redact_dsn

Source = Literal["default", "file", "environment"]
_SECRET_NAMES = ("password", "secret", "api_key")
"""A key whose last part ends in one of these is shown masked whatever its value."""


@dataclass(frozen=True, kw_only=True)
class SettingValue:
    key: str
    """Dotted, as QUARRY_<SECTION>__<KEY> and config.yaml spell it (`database.pool_max`)."""
    value: Any
    """JSON-ready, secrets masked."""
    source: Source
    origin: str | None
    """The config file's path or the environment variable's name; None for a default."""


def setting_values(settings: Settings, *, path: Path | None, environ: Mapping[str, str]) -> list[SettingValue]:
    """Every leaf setting of `settings` (loaded from `path` and `environ`), in the model's order."""
    written = set(_leaves(read_config_file(path))) if path is not None else set()
    variables = environment_names(environ)
    values = []
    for key, value in _leaves(settings.model_dump(mode="json")).items():
        shown = masked(key, value)
        if (from_env := _covering(key, variables)) is not None:
            values.append(SettingValue(key=key, value=shown, source="environment", origin=variables[from_env]))
        elif _covering(key, written) is not None:
            values.append(SettingValue(key=key, value=shown, source="file", origin=str(path)))
        else:
            values.append(SettingValue(key=key, value=shown, source="default", origin=None))
    return values


def masked(key: str, value: Any) -> Any:
    """`value` safe to print: a connection string's password masked, a secret-named key masked whole."""
    if key == "database.url" and isinstance(value, str):
        return redact_dsn(value, dsn=value)
    if value is not None and key.rsplit(".", 1)[-1].lower().endswith(_SECRET_NAMES):
        return MASK
    return value


def _leaves(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            found.update(_leaves(value, key + "."))
        else:
            found[key] = value
    return found


def _covering(key: str, keys: Iterable[str]) -> str | None:
    """The key in `keys` that sets `key`: itself, or the longest section holding it."""
    holders = [k for k in keys if key == k or key.startswith(k + ".")]
    return max(holders, key=len) if holders else None
