"""The stdout console: rich on a terminal; on a pipe, no colour or cursor control codes, tables at a
fixed width and text never hard-wrapped. It never passes a control character from the data it
shows (agent/cli/terminal.py)."""

from quarry.agent.cli.terminal import PIPE_WIDTH, SafeConsole, console_for

__all__ = ["PIPE_WIDTH", "console_for_stdout"]


def console_for_stdout() -> SafeConsole:
    return console_for("stdout")
