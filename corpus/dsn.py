"""Connection strings made safe to print: the one redaction every message, log line or status that
names a database goes through.

PostgreSQL takes two shapes, and a password can hide in three places:

    postgresql://alice:s3cret@db:5432/quarry?sslmode=require&password=s3cret   (URI: userinfo, query)
    host=db user=alice password='s3 cret' dbname=quarry                        (key=value, maybe quoted)

A password may itself hold '@', ':' or spaces, and libpq then mis-parses the string and quotes a piece
of the password back in its error ("failed to resolve host 'ss@db'"). So `redact_dsn` masks the
password fields of any connection string inside `text` and, given the configured string, every
occurrence of its password and of the pieces libpq may have split it into.
"""

import re

MASK = "***"
_SECRET_KEYS = r"(?:ssl)?password"
# key=value: a quoted value runs to its closing quote (backslash escapes), else to the next space.
_KEYWORD = re.compile(rf"(?i)((?<![?&])\b{_SECRET_KEYS}\s*=\s*)('(?:\\.|[^'\\])*(?:'|$)|[^\s'][^\s]*|(?=\s|$))")
# URI query parameter: the value runs to the next '&', '#', space or quote.
_QUERY = re.compile(rf"(?i)([?&]{_SECRET_KEYS}=)([^&#\s'\"]*)")
# URI userinfo: after scheme://user: up to the LAST '@' before the query, so 'p@ss@host' is masked whole.
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/?#\s]*:)([^?#\s]*)@")
_PIECES = re.compile(r"[@:/\s]+")
_MIN_PIECE = 2
_MIN_SECRET = 4


def redact_dsn(text: str, *, dsn: str | None = None) -> str:
    """`text` with every password in a connection string masked; with `dsn` (the configured connection
    string), also every occurrence of that string's passwords and of their '@'/':'/space-separated pieces."""
    secrets = _secrets(dsn) if dsn else []
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET:  # a short one would mask letters all over the message
            text = text.replace(secret, MASK)
    pieces = {p for s in secrets for p in (s, *_PIECES.split(s)) if len(p) >= _MIN_PIECE and p != MASK}
    for piece in sorted(pieces, key=len, reverse=True):  # where libpq quotes a piece as a word of its own
        text = re.sub(rf"(?<![\w*]){re.escape(piece)}(?![\w*])", MASK, text)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _QUERY.sub(lambda m: m.group(1) + MASK, text)
    return _KEYWORD.sub(lambda m: m.group(1) + MASK, text)


def _secrets(dsn: str) -> list[str]:
    found = [m.group(2) for m in _USERINFO.finditer(dsn)]
    found += [m.group(2) for m in _QUERY.finditer(dsn)]
    for match in _KEYWORD.finditer(dsn):
        value = match.group(2)
        found.append(value)
        if value.startswith("'"):
            found.append(re.sub(r"\\(.)", r"\1", value.strip("'")))
    return [s for s in found if s]
