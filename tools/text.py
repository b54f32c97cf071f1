"""The one tokenizer lexical retrieval and reranking share.

NFKC-normalise, casefold, split on Unicode word characters (`\\w+`: letters, digits, underscore
in any script), optionally drop English function words. "Redpanda's" → ["redpanda", "s"];
"Ångström" → ["ångström"]; "数据" stays one token (no CJK segmentation).
"""

import re
import unicodedata

_WORD = re.compile(r"\w+")

STOP_WORDS = frozenset(
    """
        a about above after again against all am an and any are as at be because been before being below
        between both but by can could did do does doing down during each few for from further had has have
        having he her here hers herself him himself his how i if in into is it its itself just me more most my
        myself no nor not now of off on once only or other our ours ourselves out over own same she should so
        some such than that the their theirs them themselves then there these they this those through to too
        under until up very was we were what when where which while who whom why will with would you your
        yours yourself yourselves s t
    """.split()
)


def tokenize(text: str, *, stop_words: bool = True) -> list[str]:
    tokens = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [t for t in tokens if t not in STOP_WORDS] if stop_words else tokens


# Irregular forms common in research questions ("who led", "who built"); suffix rules handle the rest.
_IRREGULAR = {
    "led": "lead",
    "built": "build",
    "wrote": "write",
    "written": "write",
    "ran": "run",
    "began": "begin",
    "begun": "begin",
    "chose": "choose",
    "chosen": "choose",
    "made": "make",
    "held": "hold",
    "kept": "keep",
    "paid": "pay",
    "sent": "send",
    "spent": "spend",
    "took": "take",
    "taken": "take",
    "went": "go",
    "gone": "go",
    "broke": "break",
    "broken": "break",
    "sold": "sell",
    "bought": "buy",
    "found": "find",
    "grew": "grow",
    "grown": "grow",
    "knew": "know",
    "known": "know",
    "left": "leave",
    "lost": "lose",
    "met": "meet",
    "replaced": "replace",
    "owned": "own",
    "failed": "fail",
    "triggered": "trigger",
}


def stem(token: str) -> str:
    """A light, predictable stemmer for matching query words against evidence ("leads", "led" → "lead";
    "services", "service" → "servic"): plural and verb suffixes off, a doubled final consonant and a
    final "e" dropped, a short table of irregular verbs."""
    if token in _IRREGULAR:
        token = _IRREGULAR[token]
    elif token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith(("sses", "xes", "zes", "ches", "shes")):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")) and len(token) > 3:
        token = token[:-1]
    elif token.endswith(("ing", "ed")) and len(token) - (3 if token.endswith("ing") else 2) >= 3:
        token = token[: -3 if token.endswith("ing") else -2]
        if len(token) > 2 and token[-1] == token[-2] and token[-1] not in "lsaeiou":
            token = token[:-1]
    if token.endswith("e") and len(token) > 3:
        token = token[:-1]
    return token


def content_terms(text: str) -> set[str]:
    """Stemmed content words: what two texts must share to be about the same thing."""
    return {stem(t) for t in tokenize(text)}
