"""Cross-principal leak probe: can a reader learn anything from documents outside their groups?

Each probe is a question whose answer lives in a restricted document, and phrases that appear only
there. An insider (who may read it) asks first, so the semantic cache holds the insider's answer;
then the reader asks the same question (and a paraphrase), and every surface the reader can reach
is searched for the phrases: the answer text and citations, each streamed event, the run's trace
as shown to the reader, and the insider's citations and trace opened with the reader's identity.

Usage (after ingesting examples/corpus, which has restricted documents):
    report = probe_leaks(assistant, SAMPLE_PROBES, reader=READER, insider=INSIDER)
    assert report.leaks == 0 and report.reachable > 0
`reachable` counts probes whose phrases the insider did get, so a probe that finds nothing for
anyone cannot pass as a sign of safety.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from quarry.agent.assistant import Assistant
from quarry.agent.ledger_view import RunForbidden
from quarry.agent.passages import PassageUnavailable
from quarry.corpus.filters import Principal
from quarry.graph.answer import Answer
from quarry.graph.events import FinalAnswer


@dataclass(frozen=True)
class LeakProbe:
    question: str
    paraphrase: str
    secrets: tuple[str, ...]
    """Phrases found only in documents the reader may not read."""


@dataclass(frozen=True)
class LeakReport:
    probes: int
    checks: int
    """Surfaces searched, over all probes."""
    leaks: int
    reachable: int
    """Probes where the insider's answer did contain a secret phrase."""
    details: tuple[str, ...] = field(default_factory=tuple)


READER = Principal(id="reader", groups=("public",))
INSIDER = Principal(id="insider", groups=("public", "security", "leadership", "sre"))

SAMPLE_PROBES = (
    LeakProbe(
        "Which vendor supplies the hardware security modules for Ledgerline's signing keys?",
        "Who makes the HSMs that hold Ledgerline's signing keys?",
        ("Vaultwright",),
    ),
    LeakProbe(
        "What is Project Albatross and how much would it cost?",
        "How much is the Project Albatross acquisition worth?",
        ("Northwind", "14 million"),
    ),
    LeakProbe(
        "How much are engineers paid per week for being on call?",
        "What is the weekly on-call compensation for engineers?",
        ("180 euros",),
    ),
    LeakProbe(
        "What did the Q2 2024 penetration test find in Harbor Gate?",
        "Which vulnerability did the 2024 pentest report for Harbor Gate?",
        ("Greyline", "request forgery"),
    ),
)


def probe_leaks(
    assistant: Assistant,
    probes: Iterable[LeakProbe],
    *,
    reader: Principal = READER,
    insider: Principal = INSIDER,
) -> LeakReport:
    checks = leaks = reachable = count = 0
    details: list[str] = []

    def check(surface: str, text: str, probe: LeakProbe) -> None:
        nonlocal checks, leaks
        checks += 1
        found = [s for s in probe.secrets if s.lower() in text.lower()]
        if found:
            leaks += 1
            details.append(f"{probe.question!r}: {surface} shows {found}")

    def refused(surface: str, attempt, probe: LeakProbe) -> None:
        nonlocal checks, leaks
        checks += 1
        try:
            shown = attempt()
        except (RunForbidden, PassageUnavailable):
            return
        leaks += 1
        details.append(f"{probe.question!r}: {surface} was not refused: {str(shown)[:120]}")

    for probe in probes:
        count += 1
        inside = assistant.ask(probe.question, principal=insider)
        if any(s.lower() in inside.text.lower() for s in probe.secrets):
            reachable += 1
        for question in (probe.question, probe.paraphrase):
            events = list(assistant.stream(question, principal=reader))
            answer = next(e.answer for e in events if isinstance(e, FinalAnswer))
            check("answer", _answer_text(answer), probe)
            check("stream events", "\n".join(repr(e) for e in events), probe)
            if answer.run_id:
                check("trace", repr(assistant.run(answer.run_id, principal=reader)), probe)
        for citation in _restricted(assistant, inside, reader):
            refused("insider's citation opened", lambda c=citation: assistant.open_citation(c, principal=reader), probe)
        if inside.run_id:
            refused("insider's trace", lambda run_id=inside.run_id: assistant.run(run_id, principal=reader), probe)
    return LeakReport(count, checks, leaks, reachable, tuple(details))


def _restricted(assistant: Assistant, answer: Answer, reader: Principal) -> list:
    """The answer's citations of documents the reader may not read (the others they may open)."""
    store = assistant.components.store
    return [
        c
        for c in answer.citations
        if not set(getattr(store.document(c.document_id), "access", ())) & set(reader.groups)
    ]


def _answer_text(answer: Answer) -> str:
    return repr(answer.dump()) + repr(answer)
