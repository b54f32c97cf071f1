"""What `quarry chat` shows: the live status line while a turn runs, the answer with its sources
and spend, and the slash commands."""

import sys
from collections.abc import Iterable, Iterator

from rich.live import Live
from rich.text import Text

from quarry.agent.assistant import Assistant
from quarry.agent.chat_session import Session
from quarry.agent.cli.chat import HELP
from quarry.agent.cli.citing import citation_line
from quarry.agent.cli.tables import console_for_stdout
from quarry.agent.cli.terminal import console_for, safe_text
from quarry.corpus.filters import SearchFilters
from quarry.errors import PassageUnavailable, SessionBudgetSpent
from quarry.graph.answer import Answer
from quarry.graph.events import BudgetLeft, FinalAnswer, HitsFound, NodeFinished, NodeStarted, RunEvent
from quarry.graph.report import outcome_line


class ChatScreen:
    def __init__(
        self, assistant: Assistant, session: Session, filters: SearchFilters, *, use_cache: bool = True
    ) -> None:
        self.assistant = assistant
        self.session = session
        self.filters = filters
        self.use_cache = use_cache
        self.out = console_for_stdout()
        self.err = console_for("stderr")
        self.live_status = self.out.is_terminal and sys.stdin.isatty()

    def welcome(self, *, resumed: bool) -> None:
        s = self.session
        verb = f"Resumed session {s.id} ({len(s.turns)} turn(s) so far)" if resumed else f"Session {s.id}"
        self.out.print(
            f"Quarry chat — {verb}, reader '{s.principal.id}' ({', '.join(s.principal.groups)}). /help for commands.",
            markup=False,
        )

    def prepare(self) -> None:
        """Load the embedding model and open the database now, with a line saying so: loading holds the
        interpreter, so a status line started before it would freeze until it is done."""
        if not self.assistant.components.engine_built:
            self.err.print("Loading the models…", markup=False, style="dim")
            _ = self.assistant.components.engine

    def goodbye(self) -> None:
        self.out.print(
            f"Session {self.session.id} saved. Resume it with: quarry chat --session {self.session.id}", markup=False
        )

    def ask(self, question: str) -> None:
        answer = self._run(question)
        if answer is not None:
            self._show(answer)

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, argument = line.partition(" ")
        name = name.lower()
        if name in ("/quit", "/exit", "/q"):
            return False
        handlers = {
            "/help": self._help,
            "/budget": self._budget,
            "/sources": self._sources,
            "/open": self._open,
            "/new": self._new,
            "/history": self._history,
        }
        handler = handlers.get(name)
        if handler is None:
            self.out.print(f"Unknown command {name}. /help lists the commands.", markup=False)
        else:
            handler(argument.strip())
        return True

    # -- a turn -------------------------------------------------------------------------------------

    def _run(self, question: str) -> Answer | None:
        from quarry.errors import InvalidQuestion

        events: Iterator[RunEvent] | None = None
        try:
            events = self.session.stream(question, filters=self.filters, use_cache=self.use_cache)
            if self.live_status:
                return self._with_status_line(events)
            return self._with_progress_lines(events)
        except InvalidQuestion as exc:
            self.out.print(f"Not asked: {exc}", markup=False)
            return None
        except KeyboardInterrupt:
            # Ctrl-C cancels this answer (closing the stream cancels the run); the chat goes on.
            close = getattr(events, "close", None)
            if callable(close):
                close()
            self.err.print("Answer cancelled. Ask again, or /quit to leave.", markup=False)
            return None

    def _with_status_line(self, events: Iterable[RunEvent]) -> Answer | None:
        status = Text("starting…")
        answer = None
        with Live(status, console=self.out, transient=True, refresh_per_second=8):
            for event in events:
                if isinstance(event, FinalAnswer):
                    answer = event.answer
                else:
                    line = _status(event, self.session.per_question.max_hops)
                    if line:
                        status.plain = safe_text(line)
        return answer

    def _with_progress_lines(self, events: Iterable[RunEvent]) -> Answer | None:
        answer = None
        for event in events:
            if isinstance(event, FinalAnswer):
                answer = event.answer
            elif isinstance(event, NodeFinished):
                span = event.span
                self.err.print(
                    f"  … {span.node} {span.outcome} ({span.ms:.0f} ms, {span.tokens} tokens, ${span.usd:.6f})",
                    markup=False,
                )
        return answer

    def _show(self, answer: Answer) -> None:
        out = self.out
        if answer.asked_as and answer.asked_as != answer.question:
            out.print(f"(researched as: {answer.question})", markup=False, style="dim")
        out.print(answer.text, markup=False)
        if answer.citations:
            out.print("Sources:", style="bold")
            for c in answer.citations:
                image = f" · image: {c.image.path}" if c.image else ""
                out.print(f"  [{c.number}] {c.title} — {c.source}{image}", markup=False)
        total = answer.spend.total()
        state = outcome_line(answer).rstrip(".")
        if answer.unanswered:
            state += " · not answered: " + "; ".join(answer.unanswered)
        out.print(
            f"{state} · {answer.hops} hop(s) · {answer.elapsed_s:.2f} s · {total.tokens:,} tokens · ${total.usd:.6f}",
            markup=False,
            style="dim",
        )
        out.print(self._session_left(), markup=False, style="dim")

    # -- commands -----------------------------------------------------------------------------------

    def _help(self, _: str) -> None:
        self.out.print(HELP, markup=False)

    def _budget(self, _: str) -> None:
        s = self.session
        b, used = s.budget, s.used
        self.out.print(f"Session {s.id}: {len(s.turns)} turn(s)", markup=False)
        self.out.print(
            f"  used   {used.seconds:8.1f} s  {used.hops:4d} hops  {used.tokens:>10,} tokens  ${used.usd:.6f}",
            markup=False,
        )
        self.out.print(
            f"  of     {b.max_seconds:8.1f} s  {b.max_hops:4d} hops  {b.max_tokens:>10,} tokens  ${b.max_usd:.6f}",
            markup=False,
        )
        try:
            turn = s.next_limits()
            self.out.print(
                f"  next turn may use {turn.max_seconds:.1f} s, {turn.max_hops} hops, {turn.max_tokens:,} tokens, "
                f"${turn.max_usd:.6f}",
                markup=False,
            )
        except SessionBudgetSpent as spent:
            self.out.print(f"  {spent}; /new starts a fresh session", markup=False)

    def _sources(self, _: str) -> None:
        citations = self.session.sources
        if not citations:
            self.out.print("No sources yet: the last answer cited nothing (or nothing was asked).")
            return
        for c in citations:
            self.out.print(
                f"{citation_line(c)} (document {c.document_id})",
                markup=False,
            )

    def _open(self, argument: str) -> None:
        citations = {c.number: c for c in self.session.sources}
        if not argument.isdigit() or int(argument) not in citations:
            choices = ", ".join(str(n) for n in citations) or "none"
            self.out.print(f"/open needs a citation number from the last answer (available: {choices}).", markup=False)
            return
        citation = citations[int(argument)]
        try:
            passage = self.assistant.open_citation(citation, principal=self.session.principal)
        except PassageUnavailable as exc:
            self.out.print(str(exc), markup=False)
            return
        self.out.print(
            citation_line(citation)
            + (
                ""
                if citation.page is None and not citation.section
                else f", chars {citation.quote_start}-{citation.quote_end}"
            ),
            markup=False,
            style="bold",
        )
        if passage.changed:
            self.out.print("(the document changed since this answer; the passage as cited:)", markup=False)
        text = Text()
        text.append(("…" if passage.before else "") + safe_text(passage.before))
        if self.out.is_terminal:
            text.append(safe_text(passage.cited), style="reverse")
        else:
            text.append(f"»{safe_text(passage.cited)}«")
        text.append(safe_text(passage.after) + ("…" if passage.after else ""))
        self.out.print(text)

    def _new(self, _: str) -> None:
        old = self.session
        self.session = self.assistant.chat(principal=old.principal, budget=old.per_question, session_budget=old.budget)
        self.out.print(f"New session {self.session.id} (the previous one, {old.id}, is saved).", markup=False)

    def _history(self, _: str) -> None:
        if not self.session.turns:
            self.out.print("Nothing asked yet in this session.")
        for turn in self.session.turns:
            shown = turn.question if turn.question == turn.asked else f"{turn.asked}  →  {turn.question}"
            self.out.print(f"{turn.number}. {shown}", markup=False)

    def _session_left(self) -> str:
        b, used = self.session.budget, self.session.used
        return (
            f"session: {len(self.session.turns)} turn(s), left {max(0.0, b.max_seconds - used.seconds):.1f} s · "
            f"{max(0, b.max_hops - used.hops)} hops · {max(0, b.max_tokens - used.tokens):,} tokens · "
            f"${max(0.0, b.max_usd - used.usd):.4f}"
        )


def _status(event: RunEvent, max_hops: int) -> str | None:
    if isinstance(event, NodeStarted):
        return f"⏳ hop {max(1, event.hop)}/{max_hops} · {event.node} · {_left(event.left)}"
    if isinstance(event, HitsFound):
        return f"⏳ hop {event.hop}/{max_hops} · search «{event.query}»: {event.candidates} candidates"
    if isinstance(event, NodeFinished):
        return f"⏳ hop {max(1, event.hop)}/{max_hops} · {event.node} {event.span.outcome} · {_left(event.left)}"
    return None


def _left(left: BudgetLeft) -> str:
    return f"left {left.seconds:.1f} s · {left.tokens:,} tokens · ${left.usd:.4f}"
