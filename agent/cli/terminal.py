"""What reaches a terminal: document text, titles, questions and principals are data, never control.

A document can carry escape sequences that erase lines ("\\x1b[2K"), move the cursor, set the
window title or write the clipboard (OSC 52), and C1 controls (U+009B is a one-character CSI). Every
byte the CLI writes passes `safe_text`, which shows C0 controls (but newline and tab), DEL and C1
controls as visible escapes (`\\x1b`) and turns CRLF into LF. Two doors, one function:

- `guarded_streams()` wraps sys.stdout and sys.stderr for the whole command, so every `print`, error
  message and progress line is filtered;
- `SafeConsole` is the only rich console the CLI builds: it filters every segment it renders (its own
  cursor and colour codes are control segments and pass), and reads no markup, so a title like
  "[link=file:///etc]x[/link]" prints as written. It writes to the unguarded stream beneath, so its
  colours still work on a terminal.
"""

import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

__all__ = ["SafeConsole", "guarded_streams", "safe_text"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """`text` with every C0 control but newline and tab, DEL and every C1 control shown as `\\xNN`."""
    return _CONTROL.sub(_visible, text.replace("\r\n", "\n"))


def _visible(match: "re.Match[str]") -> str:
    return f"\\x{ord(match.group()):02x}"


class _Guarded:
    """A text stream that writes `safe_text` of whatever it is given to the stream beneath."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(safe_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    def fileno(self) -> int:
        return self.raw.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def unguarded(stream: TextIO) -> TextIO:
    return stream.raw if isinstance(stream, _Guarded) else stream


@contextmanager
def guarded_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr filtered by `safe_text` until the block ends."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Guarded(unguarded(sys.stdout)), _Guarded(unguarded(sys.stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


class SafeConsole(Console):
    """A rich console that renders no markup and no control character from what it is given."""

    def __init__(self, **options: Any) -> None:
        for name in ("markup", "highlight", "emoji"):
            options.setdefault(name, False)
        super().__init__(**options)

    @property  # type: ignore[override]
    def file(self) -> TextIO:
        return unguarded(Console.file.fget(self))  # type: ignore[attr-defined]

    @file.setter
    def file(self, new_file: TextIO) -> None:
        Console.file.fset(self, new_file)  # type: ignore[attr-defined]

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(safe_text(text), **options)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not segment.text:
                yield segment
            else:
                yield Segment(safe_text(segment.text), segment.style)


PIPE_WIDTH = 160


def console_for(stream: str = "stdout") -> SafeConsole:
    """The console for stdout or stderr: rich on a terminal; on a pipe, no colour or cursor control
    codes, tables at a fixed width and text never hard-wrapped (a reader's pager or a program does that)."""
    stderr = stream == "stderr"
    probe = SafeConsole(stderr=stderr)
    if probe.is_terminal:
        return probe
    return SafeConsole(
        stderr=stderr, width=PIPE_WIDTH, no_color=True, color_system=None, force_terminal=False, soft_wrap=True
    )
