"""Connection strings never show their password: not in the error a dead server gives, not in the
configuration error, not in a log line, whatever the DSN's shape and whatever the password holds."""

import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from quarry.agent.settings import load_settings
from quarry.corpus.db import Database
from quarry.corpus.dsn import redact_dsn
from quarry.errors import QuarryError

SECRET = "s3cr3t-pw"
SHAPES = {
    "uri userinfo": f"postgresql://alice:{SECRET}@127.0.0.1:1/quarry",
    "uri query": f"postgresql://alice@127.0.0.1:1/quarry?sslmode=disable&password={SECRET}",
    "key=value": f"host=127.0.0.1 port=1 user=alice password={SECRET} dbname=quarry",
    "key=value quoted": f"host=127.0.0.1 port=1 user=alice password='{SECRET} two' dbname=quarry",
    "at sign in the password": "postgresql://alice:p@ss-w0rd@127.0.0.1:1/quarry",
    "space in an unquoted password": f"host=127.0.0.1 port=1 password=my {SECRET}",
}


@pytest.mark.parametrize("dsn", SHAPES.values(), ids=SHAPES.keys())
def test_a_dead_server_is_reported_without_any_part_of_the_password(dsn: str, tmp_path: Path):
    settings = load_settings(None, overrides={"database.url": dsn, "database.connect_timeout_s": 2}, environ={})
    with pytest.raises(QuarryError) as caught:
        Database.open(settings.database, settings.embedding, tmp_path)
    message = str(caught.value)
    for piece in (SECRET, "p@ss", "ss-w0rd", "ss@127"):
        assert piece not in message, message
    assert "127.0.0.1" in message or "not a valid PostgreSQL connection string" in message


def test_the_pool_log_is_redacted_too(caplog: pytest.LogCaptureFixture):
    dsn = SHAPES["at sign in the password"]
    database = Database(dsn, load_settings(None, environ={}).database, where=redact_dsn(dsn, dsn=dsn))
    logger = logging.getLogger("psycopg.pool")
    logger.addFilter(database._log_filter)
    try:
        with caplog.at_level(logging.WARNING, logger="psycopg.pool"):
            logger.warning("error connecting in %r: failed to resolve host %r", "quarry", "ss-w0rd@127.0.0.1")
    finally:
        logger.removeFilter(database._log_filter)
    assert "ss-w0rd" not in caplog.text and "***@127.0.0.1" in caplog.text


def test_a_bad_url_in_the_configuration_is_shown_masked():
    with pytest.raises(QuarryError) as caught:
        load_settings(None, overrides={"database.url": f"postgresql://a:{SECRET}\x00@h/d"}, environ={})
    assert SECRET not in str(caught.value) and "postgresql://a:***@h/d" in str(caught.value)


_PASSWORD = st.text(
    alphabet=st.sampled_from("abcXYZ019@:/ !$%^&()-_=+[]{};,.<>?#'\"\\|~`é"), min_size=1, max_size=24
).filter(lambda p: p.strip() == p and p != "")


def _shapes(password: str, shape: str) -> tuple[str, str, str]:
    """The DSN, the password as written in it, and the DSN as it must be shown."""
    if shape in ("uri", "uri-encoded"):
        secret = quote(password, safe="") if shape == "uri-encoded" else password
        form = "postgresql://alice:{}@db.example:5432/quarry?sslmode=require"
    elif shape == "query":
        secret = quote(password, safe="")
        form = "postgresql://alice@db.example/quarry?password={}&sslmode=require"
    else:
        secret = "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"
        form = "host=db.example user=alice password={} dbname=quarry"
    return form.format(secret), secret, form.format("***")


@given(password=_PASSWORD, shape=st.sampled_from(["uri", "uri-encoded", "query", "kv"]))
def test_property_no_dsn_shape_shows_its_password(password: str, shape: str):
    if shape == "uri":
        assume(not any(c in password for c in "?# "))  # not a URI libpq reads: written percent-encoded
    dsn, secret, expected = _shapes(password, shape)
    assert redact_dsn(dsn) == expected
    message = f"cannot connect to PostgreSQL at {dsn}: connection refused"
    assert redact_dsn(message) == message.replace(dsn, expected)
    assume(len(password) >= 4)  # a shorter one is masked where it stands, not wherever its letters occur
    assert password not in redact_dsn(message, dsn=dsn) and secret not in redact_dsn(message, dsn=dsn)
