"""The offline model: no API key, no network, no dollars, but token-accounted like any model.

It works on the typed task inside the Prompt and answers in the same reply format the parsers read
from Claude, so the graph cannot tell the two apart:
- plan: the question itself, plus each clause of a compound question;
- rerank: the share of the query's content words a passage contains;
- contextualize: rule-based follow-up resolution (tools/llm/followup.py);
- synthesize: greedily picks the evidence sentences that cover the most still-uncovered question
  words, then for each part of the question no pick answers yet (tools/question_parts.py) the
  connected sentence that does; leads with the short answer each part asks for (a name, place,
  date, number: tools/short_answer.py), cited, then the cited sentences; and reports as gaps the
  words no sentence covers, joined with the bridge entities the chosen sentences introduced (the
  next hop's query: "Ledgerline own team lead"). With nothing to quote it says so, uncited.
  A quoted sentence is document data: it loses the document's own citation-like markers, its
  line breaks and any reply section label, so a quote can neither cite nor restructure the reply.
"""

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from quarry.corpus.entities import entity_names
from quarry.corpus.tokens import count_tokens, encoding
from quarry.errors import LLMTimeout
from quarry.tools.citations import strip_markers, with_markers
from quarry.tools.llm.base import Completion, ContextualizeTask, Passage, PlanTask, Prompt, RerankTask, SynthesizeTask
from quarry.tools.llm.followup import resolve_followup
from quarry.tools.llm.pricing import FREE, Usage
from quarry.tools.llm.prompts import as_data
from quarry.tools.question_parts import CitedSentence, Part, answers, question_parts
from quarry.tools.sentences import readable, sentence_spans
from quarry.tools.short_answer import by_date, short_answer, yes_or_no
from quarry.tools.text import content_terms, stem, tokenize

# Words that frame a question rather than name what it is about: never worth a gap query of their own.
_FRAME_WORDS = frozenset(content_terms("many much long often kind type name list tell give describe explain"))
_CLAUSE = re.compile(r",?\s+\b(?:and|but)\s+(?=(?:who|what|which|when|where|why|how)\b)", re.IGNORECASE)
MAX_BRIDGE_ENTITIES = 2
NOTHING_FOUND = "The evidence found does not answer the question."


@dataclass(frozen=True)
class _Sentence:
    marker: int
    text: str
    terms: frozenset[str]
    """Content words of the sentence and of its passage's title (a sentence is about its page's subject)."""
    entities: frozenset[str]
    """Casefolded names in the sentence and its passage's title (what the sentence is about)."""
    context: str
    """Casefolded sentence and title, for matching anchors."""
    title: str = ""

    def mentions(self, anchors: set[str]) -> bool:
        return any(anchor in self.context for anchor in anchors)


class ExtractiveModel:
    name = "extractive"
    price = FREE

    def __init__(self, *, max_sentences: int = 6) -> None:
        self.max_sentences = max_sentences

    def count_input_tokens(self, prompt: Prompt) -> int:
        return count_tokens(prompt.text())

    async def complete(self, prompt: Prompt, *, max_tokens: int, deadline: float) -> Completion:
        if time.monotonic() >= deadline:
            raise LLMTimeout(f"{self.name}: deadline passed before the call")
        text = self.reply(prompt)
        tokens = encoding().encode(text)
        truncated = len(tokens) > max_tokens
        if truncated:
            text = encoding().decode(tokens[:max_tokens])
        usage = Usage(input_tokens=count_tokens(prompt.text()), output_tokens=min(len(tokens), max_tokens))
        return Completion(text, usage, self.name, "max_tokens" if truncated else "end_turn")

    def reply(self, prompt: Prompt) -> str:
        task = prompt.task
        if isinstance(task, PlanTask):
            return "\n".join(plan_queries(task))
        if isinstance(task, RerankTask):
            return "\n".join(f"{p.marker} {10 * _coverage(task.query, p.text):.1f}" for p in task.passages)
        if isinstance(task, SynthesizeTask):
            return self._synthesize(task)
        if isinstance(task, ContextualizeTask):
            return resolve_followup(task)
        raise TypeError(f"{self.name} cannot perform {type(task).__name__}")

    def _synthesize(self, task: SynthesizeTask) -> str:
        wanted = content_terms(task.question) - _FRAME_WORDS
        anchors = {_name_key(n) for n in entity_names(task.question)}
        sentences = _sentences(task.passages)
        chosen = select_sentences(wanted, sentences, self.max_sentences, anchors)
        parts = question_parts(task.question)
        chosen = _complete_parts(parts, chosen, sentences, anchors)
        covered = frozenset().union(*(s.terms for s in chosen)) if chosen else frozenset()
        lead = _lead(parts, chosen)
        answer = " ".join([lead, *(_cite(s) for s in chosen)] if lead else [_cite(s) for s in chosen])
        gaps = _gap_queries(task, wanted - covered, chosen)
        if not answer:
            answer = NOTHING_FOUND
            gaps = gaps or _fresh([p.text for p in parts], task.asked)
        return "ANSWER:\n" + answer + "\nGAPS:\n" + ("\n".join(f"- {g}" for g in gaps) or "- none")


def _complete_parts(
    parts: Sequence[Part], chosen: list[_Sentence], sentences: Sequence[_Sentence], anchors: set[str]
) -> list[_Sentence]:
    """Add, for each part no chosen sentence answers, the connected sentence that answers it best."""
    picked = list(chosen)
    for part in parts:
        if answers(part, _cited(picked)):
            continue
        linked = anchors | {e for s in picked for e in s.entities}
        quoted = {s.marker for s in picked}
        candidates = [
            s for s in sentences if s not in picked and (s.marker in quoted or s.mentions(linked) or not linked)
        ]
        fitting = [s for s in candidates if answers(part, _cited([*picked, s]))]
        if fitting:
            picked.append(max(fitting, key=lambda s: (len(s.terms & part.focus), -s.marker)))
    return picked


def _lead(parts: Sequence[Part], chosen: Sequence[_Sentence]) -> str:
    """The short answers, one per part that has one, each cited: "Dana Okafor [4]; Frankfurt [4]."."""
    pieces: list[str] = []
    for part in parts:
        if part.kind == "yesno":
            keys = [" ".join(n.split()[:2]).casefold() for n in part.names]
            about = [s for s in chosen if any(k in s.context for k in keys)]
            if about:
                pieces.append(f"{yes_or_no(part, [s.text for s in about])} [{about[0].marker}]")
            continue
        dated = by_date(part, [s.text for s in chosen])
        if dated:
            source = next(s for s in chosen if dated.casefold() in s.text.casefold())
            pieces.append(f"{dated} [{source.marker}]")
            continue
        # A sentence with the part's head word first: "led by Dana Okafor" answers "who leads", not "Payments Core owns…".
        for sentence in sorted(chosen, key=lambda s: part.head not in s.terms):
            value = short_answer(part, sentence.text)
            if value and answers(part, _cited([sentence, *chosen])):
                pieces.append(f"{value} [{sentence.marker}]")
                break
    return "; ".join(dict.fromkeys(pieces)) + "." if pieces else ""


def _cited(sentences: Sequence[_Sentence]) -> list[CitedSentence]:
    return [CitedSentence(text=s.text, titles=s.title) for s in sentences]


def _fresh(queries: Sequence[str], asked: Sequence[str]) -> list[str]:
    done = {q.casefold() for q in asked}
    return [q for q in queries if q.casefold() not in done]


def plan_queries(task: PlanTask) -> list[str]:
    queries = [task.question.strip()]
    clauses = [c.strip(" ,?") for c in _CLAUSE.split(task.question) if c.strip(" ,?")]
    if len(clauses) > 1:
        queries.extend(c for c in clauses if len(content_terms(c)) >= 2)
    return list(dict.fromkeys(queries))[: task.max_queries]


def select_sentences(
    wanted: set[str], sentences: Sequence[_Sentence], limit: int, anchors: set[str]
) -> list[_Sentence]:
    """Greedy max-coverage along a chain of entities: each pick adds the most question words not yet
    covered, among sentences connected to the chain (from a passage already quoted, or mentioning an
    entity the question names or an earlier pick introduced). A sentence about an unrelated entity
    ("The team is led by…" on another team's page) cannot be picked just because its words match.
    With no anchors, the chain starts at a sentence covering at least two question words."""
    chosen: list[_Sentence] = []
    uncovered = set(wanted)
    anchors = set(anchors)
    quoted: set[int] = set()
    remaining = [s for s in sentences if s.terms & wanted]
    while remaining and len(chosen) < limit and uncovered:
        if anchors or quoted:
            eligible = [s for s in remaining if s.marker in quoted or s.mentions(anchors)]
        else:
            eligible = [s for s in remaining if len(s.terms & wanted) >= min(2, len(wanted))]
        best = max(eligible, key=lambda s: (len(s.terms & uncovered), len(s.terms & wanted), -s.marker), default=None)
        if best is None or not best.terms & uncovered:
            break
        chosen.append(best)
        uncovered -= best.terms
        anchors |= best.entities
        quoted.add(best.marker)
        remaining.remove(best)
    return chosen


def _sentences(passages: Sequence[Passage]) -> list[_Sentence]:
    found: list[_Sentence] = []
    seen: set[str] = set()
    for passage in passages:
        title_entities = {_name_key(n) for n in entity_names(passage.title)}
        title_terms = content_terms(passage.title)
        for start, end in sentence_spans(passage.text):
            raw = passage.text[start:end]
            if raw.startswith("#"):  # a heading names a topic; it answers nothing
                continue
            text = " ".join(as_data(strip_markers(readable(raw))).split()).lstrip("-* ")
            if len(text) < 12 or text.casefold() in seen:
                continue
            seen.add(text.casefold())
            entities = frozenset({_name_key(n) for n in entity_names(text)} | title_entities)
            found.append(
                _Sentence(
                    passage.marker,
                    text,
                    frozenset(content_terms(text) | title_terms),
                    entities,
                    f"{text} {passage.title}".casefold(),
                    passage.title,
                )
            )
    return found


def _cite(sentence: _Sentence) -> str:
    return with_markers(sentence.text, f"[{sentence.marker}]", close=".")


def _gap_queries(task: SynthesizeTask, missing: set[str], chosen: list[_Sentence]) -> list[str]:
    if not missing:
        return []
    in_question = {name.casefold() for name in entity_names(task.question)}
    bridges: list[str] = []
    for sentence in chosen:
        for name in entity_names(sentence.text):
            if (
                name.casefold() not in in_question
                and name not in bridges
                and name.casefold() not in task.question.casefold()
            ):
                bridges.append(name)
    words: dict[str, str] = {}
    for token in tokenize(task.question):
        words.setdefault(stem(token), token)
    query = " ".join([*bridges[:MAX_BRIDGE_ENTITIES], *(words[t] for t in sorted(missing) if t in words)])
    asked = {q.casefold() for q in task.asked}
    return [query] if query.casefold() not in asked else []


def _name_key(name: str) -> str:
    return re.sub(r"['’]s$", "", name).casefold()


def _coverage(query: str, text: str) -> float:
    wanted = content_terms(query)
    return len(wanted & content_terms(text)) / len(wanted) if wanted else 0.0
