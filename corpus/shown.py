"""How a user's value is shown inside an error message: recognisably, and never at length.

A rejected value can be a 5,000-character string, a list nested 900 deep, a YAML alias bomb or an
integer too long for Python to print in decimal; the message shows a bounded summary of it.
"""

import reprlib
from typing import Any


class _Shown(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = 120
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict, self.maxset = 3, 5, 5, 5, 5

    def repr_int(self, value: int, level: int) -> str:
        if value.bit_length() > 256:  # decimal conversion of a huge int is slow, and refused past 4,300 digits
            return f"an integer of {value.bit_length()} bits"
        return super().repr_int(value, level)


_SHOWN = _Shown()


def shown(value: Any, limit: int = 160) -> str:
    """A repr of `value` of at most `limit` characters."""
    text = _SHOWN.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_name(name: Any) -> str:
    """A key or field name as text, cut short like `shown` but without the quotes."""
    text = shown(str(name)) if not isinstance(name, int) else shown(name)
    return text[1:-1] if text[:1] in "'\"" else text
