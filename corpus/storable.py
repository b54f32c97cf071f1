"""Text PostgreSQL cannot store, found before it reaches the database. Imports nothing heavy, so the
CLI checks its arguments with it without loading pydantic."""


def unstorable_character(text: str) -> str | None:
    """What in `text` PostgreSQL cannot store (a NUL, or a lone surrogate left by undecodable bytes), or None."""
    if "\x00" in text:
        return "a NUL character (\\0)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"an unpaired surrogate {text[exc.start]!r} at character {exc.start} (text that was not valid UTF-8)"
    return None
