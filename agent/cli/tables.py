"""The stdout console: rich on a terminal; on a pipe, no colour or cursor control codes, tables at a
fixed width and text never hard-wrapped (a reader's pager or a program does that)."""

from rich.console import Console

PIPE_WIDTH = 160


def console_for_stdout() -> Console:
    probe = Console(highlight=False)
    if probe.is_terminal:
        return probe
    return Console(
        highlight=False, width=PIPE_WIDTH, no_color=True, color_system=None, force_terminal=False, soft_wrap=True
    )
