"""Offline follow-up resolution: rewrite "and who maintains it?" as a standalone question from the
conversation so far, the way the Claude prompt asks a model to, with rules instead of a model:

- a leading conjunction ("and", "but", "also", "so") is dropped;
- "what about X?" re-asks the previous question with its subject replaced by X;
- a pronoun (it, its, they, them, their, he, she, him, his, her) is replaced by the entity it most
  likely refers to: the first name the previous answer introduced that its question did not
  mention (the thing that question asked for), else the previous question's first name.
- "that team" / "this service" is replaced by the name the previous turn gave it: "<Name> team" in
  the answer, or, when the previous question asked about "the team that owns Ledgerline", the name
  the answer says "owns Ledgerline" ("Where is the Payments Core team based?").
A question with none of these stands on its own and is returned unchanged.
"""

import re

from quarry.corpus.entities import entity_names
from quarry.tools.llm.base import ContextualizeTask

_LEADING_CONJUNCTION = re.compile(r"^\s*(?:and|but|also|so|then)\b[\s,]*", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+(?P<subject>.+?)\s*\??\s*$", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?P<word>it|its|they|them|their|he|she|him|his|her)\b", re.IGNORECASE)
_POSSESSIVE = frozenset({"its", "their", "his", "her"})
_DEMONSTRATIVE = re.compile(r"\b(?:that|this|the\s+same)\s+(?P<noun>[a-z]+)\b", re.IGNORECASE)
_NAME = r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*"


def resolve_followup(task: ContextualizeTask) -> str:
    question = task.question.strip()
    if not task.history:
        return question
    previous = task.history[-1]
    body = _LEADING_CONJUNCTION.sub("", question) or question
    what_about = _WHAT_ABOUT.match(body)
    if what_about:
        return _reask(previous.question, what_about.group("subject"))
    demonstrative = _DEMONSTRATIVE.search(body)
    if demonstrative:
        named = _named(demonstrative.group("noun"), previous.question, previous.answer)
        if named:
            return _capitalized(body[: demonstrative.start()] + named + body[demonstrative.end() :])
    referent = _referent(previous.question, previous.answer)
    if referent is None or not _PRONOUN.search(body):
        return _capitalized(body)
    resolved = _PRONOUN.sub(lambda m: _replacement(m.group("word"), referent), body, count=1)
    return _capitalized(resolved)


def _named(noun: str, question: str, answer: str) -> str | None:
    """ "the Payments Core team" for "that team", from the previous question and answer; None if unnamed."""
    literal = re.search(rf"\b(?:the\s+)?(?P<name>{_NAME})\s+{re.escape(noun)}\b", answer)
    if literal and literal.group("name").casefold() not in ("the", "a", "an"):
        return f"the {literal.group('name')} {noun}"
    clause = re.search(
        rf"\bthe\s+{re.escape(noun)}\s+(?:that|which|who)\s+(?P<verb>\w+)\s+(?:the\s+)?(?P<object>[\w'’-]+)",
        question,
        re.IGNORECASE,
    )
    if clause is None:
        return None
    verb, thing = re.escape(clause.group("verb")), re.escape(clause.group("object"))
    active = re.search(rf"(?:The\s+)?(?P<name>{_NAME})\s+{verb}\s+(?:the\s+)?{thing}\b", answer)
    passive = re.search(rf"\b{thing}\s+is\s+\w+\s+by\s+(?:the\s+)?(?P<name>{_NAME})", answer)
    found = active or passive
    if found is None:
        return None
    name = found.group("name")
    return f"the {name}" if name.casefold().endswith(noun.casefold()) else f"the {name} {noun}"


def _referent(question: str, answer: str) -> str | None:
    asked = {name.casefold() for name in entity_names(question)}
    introduced = [name for name in entity_names(answer) if name.casefold() not in asked]
    if introduced:
        return introduced[0]
    named = entity_names(question)
    return named[0] if named else None


def _replacement(pronoun: str, referent: str) -> str:
    return f"{referent}'s" if pronoun.casefold() in _POSSESSIVE else referent


def _reask(previous_question: str, subject: str) -> str:
    named = entity_names(previous_question)
    if not named:
        return f"{previous_question.rstrip(' ?')} — {subject}?"
    return previous_question.replace(named[0], subject, 1)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]
