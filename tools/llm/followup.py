"""Offline follow-up resolution: rewrite "and who maintains it?" as a standalone question from the
conversation so far, the way the Claude prompt asks a model to, with rules instead of a model:

- a leading conjunction ("and", "but", "also", "so") is dropped;
- "what about X?" re-asks the previous question with its subject replaced by X;
- a pronoun (it, its, they, them, their, he, she, him, his, her) is replaced by the entity it most
  likely refers to: the first name the previous answer introduced that its question did not
  mention (the thing that question asked for), else the previous question's first name.
A question with neither stands on its own and is returned unchanged.
"""

import re

from quarry.corpus.entities import entity_names
from quarry.tools.llm.base import ContextualizeTask

_LEADING_CONJUNCTION = re.compile(r"^\s*(?:and|but|also|so|then)\b[\s,]*", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^\s*(?:what|how)\s+about\s+(?P<subject>.+?)\s*\??\s*$", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?P<word>it|its|they|them|their|he|she|him|his|her)\b", re.IGNORECASE)
_POSSESSIVE = frozenset({"its", "their", "his", "her"})


def resolve_followup(task: ContextualizeTask) -> str:
    question = task.question.strip()
    if not task.history:
        return question
    previous = task.history[-1]
    body = _LEADING_CONJUNCTION.sub("", question) or question
    what_about = _WHAT_ABOUT.match(body)
    if what_about:
        return _reask(previous.question, what_about.group("subject"))
    referent = _referent(previous.question, previous.answer)
    if referent is None or not _PRONOUN.search(body):
        return _capitalized(body)
    resolved = _PRONOUN.sub(lambda m: _replacement(m.group("word"), referent), body, count=1)
    return _capitalized(resolved)


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
