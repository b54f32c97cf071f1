"""The one tokenizer lexical retrieval and reranking share.

NFKC-normalise, casefold, split on Unicode word characters (`\\w+`: letters, digits, underscore
in any script), optionally drop English function words. "Redpanda's" → ["redpanda", "s"];
"Ångström" → ["ångström"]; "数据" stays one token (no CJK segmentation).
"""

import re
import unicodedata

_WORD = re.compile(r"\w+")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t""".split()
)


def tokenize(text: str, *, stop_words: bool = True) -> list[str]:
    tokens = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    return [t for t in tokens if t not in STOP_WORDS] if stop_words else tokens
