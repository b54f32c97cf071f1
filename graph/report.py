"""An answer as a Markdown report (`quarry ask --format markdown`, `Answer.to_markdown()`): the
question, the answer and whether it answers, numbered sources with titles, locations and the
quoted sentences, and the budget line."""

from typing import TYPE_CHECKING

from quarry.tools.sentences import readable

if TYPE_CHECKING:
    from quarry.graph.answer import Answer, Citation


def markdown_report(answer: "Answer") -> str:
    lines = [f"# {_one_line(answer.asked_as or answer.question)}", ""]
    if answer.asked_as and answer.asked_as != answer.question:
        lines += [f"*Researched as:* {_one_line(answer.question)}", ""]
    lines += ["## Answer", "", answer.text.strip() or "(no answer)", "", f"**Outcome:** {outcome_line(answer)}"]
    if answer.unanswered:
        lines += ["", "**Still open:**", *(f"- {part}" for part in answer.unanswered)]
    if answer.citations:
        lines += ["", "## Sources", ""]
        for citation in answer.citations:
            lines += _source(citation)
    lines += ["", "---", "", budget_line(answer), ""]
    return "\n".join(lines)


def outcome_line(answer: "Answer") -> str:
    """Whether it answered, then why the run stopped (the two are separate)."""
    if answer.cache_hit:
        stopped = f"served from the semantic cache (answer of run {answer.cached_from or 'unknown'})"
    elif answer.partial and answer.stopped_by == "error":
        stopped = f"stopped by a model error after {answer.hops} hop(s)"
    elif answer.partial:
        stopped = f"stopped by the {answer.stopped_by} limit after {answer.hops} hop(s)"
    elif not answer.searched:
        stopped = "no search was run"
    else:
        stopped = f"finished within its limits after {answer.hops} hop(s)"
    if answer.answered is True:
        verdict = "answered"
    elif answer.answered == "partly":
        verdict = f"partly answered ({len(answer.unanswered)} part(s) open)"
    else:
        verdict = "not answered"
    return f"{verdict}; {stopped}."


def budget_line(answer: "Answer") -> str:
    total = answer.spend.total()
    return (
        f"Spend: ${total.usd:.6f} · {total.input_tokens} tokens in / {total.output_tokens} out · "
        f"{total.calls} LLM call(s) · {answer.elapsed_s:.2f} s · model {answer.model or 'none'} · run {answer.run_id}"
    )


def _source(citation: "Citation") -> list[str]:
    lines = [
        f"{citation.number}. **{_one_line(citation.title)}** — `{citation.source}`, characters "
        f"{citation.quote_start}–{citation.quote_end} (passage {citation.start_char}–{citation.end_char}, "
        f"document {citation.document_id})"
    ]
    quote = " ".join(readable(citation.quote).split())
    if quote:
        lines.append(f"   > {quote}")
    if citation.image is not None:
        lines.append(f"   Image {citation.image.name} ({citation.image.mime}): {citation.image.path}")
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())
