"""A pseudo-terminal driver for interactive commands: start a process on a pty, wait for text on
its screen, type lines. The screen is kept raw (with control codes) and as plain text."""

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\r")


def plain(raw: str) -> str:
    return _CONTROL.sub("", raw)


class Terminal:
    def __init__(
        self, argv: Sequence[str], *, env: dict[str, str], cwd: Path, rows: int = 50, columns: int = 140
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            close_fds=True,
            start_new_session=True,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)},
        )
        os.close(slave)
        self.master = master
        self.raw = ""
        self._seen = 0
        """Where in the plain screen the next `expect` starts looking."""

    @property
    def screen(self) -> str:
        return plain(self.raw)

    def expect(self, text: str, *, timeout: float = 180) -> str:
        """Wait until `text` appears after the previous match; returns the screen between the two."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen
            found = screen.find(text, self._seen)
            if found >= 0:
                between = screen[self._seen : found]
                self._seen = found + len(text)
                return between
            alive = self._read(0.2)
            if time.monotonic() > deadline or (not alive and self.process.poll() is not None):
                raise AssertionError(f"{text!r} never appeared; screen so far:\n{screen[-3000:]}")

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        self._read(0.1)
        return self.process.wait(timeout=1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

    def _read(self, timeout: float) -> bool:
        """Read what is waiting; False when the other side has gone."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.raw += data.decode("utf-8", errors="replace")
        return bool(data)
