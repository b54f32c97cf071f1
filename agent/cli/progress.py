"""Progress output for long commands: a rich bar on a terminal, plain lines otherwise (no control codes)."""

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from corpus.ingest import IngestEvent


class IngestProgress:
    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.quiet = quiet
        self.total = total
        self._done = 0
        self._bar: Progress | None = None
        if self.console.is_terminal and not quiet:
            self._bar = Progress(
                TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("{task.fields[current]}"), console=self.console, transient=True,
            )
            self._task = self._bar.add_task("ingest", total=total, current="")

    def __enter__(self) -> "IngestProgress":
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar:
            self._bar.stop()

    def update(self, event: IngestEvent) -> None:
        self._done += 1
        if event.outcome == "refused":
            self.console.print(f"refused {event.label}: {event.detail}", markup=False, style="red", soft_wrap=True)
        elif self._bar is None and not self.quiet and event.outcome != "skipped":
            print(f"[{self._done}/{self.total}] {event.outcome:9} {event.label}", file=sys.stderr, flush=True)
        if self._bar:
            self._bar.update(self._task, advance=1, current=event.label[-50:])
