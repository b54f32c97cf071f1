"""Progress output for long commands: a rich bar on a terminal, plain lines on stderr otherwise (no
control codes), nothing but refusals and warnings with --quiet."""

import sys
from types import TracebackType
from typing import Self

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from quarry.agent.cli.terminal import SafeConsole
from quarry.corpus.ingest import IngestEvent


class StageProgress:
    """One stage (ingesting, answering) of `total` items. Plain output prints a line every `every`
    items and for the last one; `always` lines (refusals, warnings) print in every mode."""

    def __init__(self, label: str, total: int, *, quiet: bool = False, every: int = 1) -> None:
        self.console = SafeConsole(stderr=True)
        self.label = label
        self.total = total
        self.quiet = quiet
        self.every = max(1, every)
        self.done = 0
        self._bar: Progress | None = None
        if self.console.is_terminal and not quiet:
            self._bar = Progress(
                TextColumn(label, markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[current]}", markup=False),
                console=self.console,
                transient=True,
            )
            self._task = self._bar.add_task(label, total=total, current="")

    def __enter__(self) -> Self:
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar:
            self._bar.stop()

    def advance(self, note: str, *, show: bool = True) -> None:
        """One more item done; `show=False` moves the bar without a plain line (e.g. an unchanged document)."""
        self.done += 1
        if self._bar:
            self._bar.update(self._task, advance=1, current=note[-60:])
        elif show and not self.quiet and (self.done % self.every == 0 or self.done == self.total):
            print(f"{self.label} [{self.done}/{self.total}] {note}", file=sys.stderr, flush=True)

    def always(self, message: str) -> None:
        """A line that is not progress (a refusal, a warning): printed even with --quiet."""
        if self._bar:
            self.console.print(message, markup=False, soft_wrap=True, style="red")
        else:
            print(message, file=sys.stderr, flush=True)


class IngestProgress(StageProgress):
    def __init__(self, total: int, *, quiet: bool = False) -> None:
        super().__init__("ingesting", total, quiet=quiet)

    def update(self, event: IngestEvent) -> None:
        if event.outcome in ("removed", "vanished"):  # not one of the documents loaded: no step of the bar
            if event.outcome == "removed":
                self.always(f"removed {event.detail} ({event.label})")
            return
        if event.outcome == "refused":
            self.always(f"refused {event.label}: {event.detail}")
        elif event.outcome == "skipped" and not self.quiet:
            self.always(f"skipped {event.label}" + (f": {event.detail}" if event.detail else ""))
        self.advance(f"{event.outcome:9} {event.label}", show=event.outcome not in ("skipped", "refused"))
