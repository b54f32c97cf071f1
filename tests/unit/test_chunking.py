import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from quarry.corpus.chunking import chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.tokens import count_tokens

words = st.sampled_from(
    ["Ledgerline", "settles", "invoices", "nightly", "é", "数据", "A.", "x" * 40, "—", "ok!", "1,200"]
)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "?  ", "\t"])
texts = st.lists(st.tuples(words, separators), min_size=0, max_size=400).map(
    lambda parts: "".join(w + s for w, s in parts)
)
configs = (
    st.tuples(st.integers(16, 120), st.integers(0, 60))
    .filter(lambda c: c[1] < c[0])
    .map(lambda c: ChunkingConfig(max_tokens=c[0], overlap_tokens=c[1]))
)


@settings(max_examples=150, deadline=None)
@given(text=texts | st.text(max_size=3000), config=configs)
def test_offsets_are_exact_and_chunks_fit(text: str, config: ChunkingConfig):
    chunks = chunk_text(text, config)
    for index, chunk in enumerate(chunks):
        assert chunk.ordinal == index
        assert text[chunk.start_char : chunk.end_char] == chunk.text
        assert chunk.token_count == count_tokens(chunk.text) <= config.max_tokens
        assert chunk.text == chunk.text.strip()
    starts = [c.start_char for c in chunks]
    assert starts == sorted(set(starts)), "each chunk must start after the previous one"
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start_char, chunk.end_char))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace()), "no text may be dropped"


def test_sentences_are_not_split_when_they_fit():
    sentences = [f"Sentence number {i} talks about Ledgerline." for i in range(40)]
    text = " ".join(sentences)
    for chunk in chunk_text(text, ChunkingConfig(max_tokens=40, overlap_tokens=0)):
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith("Ledgerline.")


def test_overlap_repeats_trailing_sentences():
    text = " ".join(f"Fact {i} is here." for i in range(30))
    chunks = chunk_text(text, ChunkingConfig(max_tokens=30, overlap_tokens=12))
    assert len(chunks) > 2
    for previous, following in itertools.pairwise(chunks):
        assert following.start_char < previous.end_char
        assert previous.text.endswith(text[following.start_char : previous.end_char])


def test_paragraph_break_closes_a_half_full_chunk():
    first = "Alpha beta gamma delta. " * 8
    second = "Omega paragraph sentence. " * 8
    text = first.strip() + "\n\n" + second.strip()
    # Precondition: the first paragraph is over half a chunk and both do not fit in one.
    assert count_tokens(first) >= 32 and count_tokens(text) > 64 and count_tokens(second) <= 64
    chunks = chunk_text(text, ChunkingConfig(max_tokens=64, overlap_tokens=0))
    assert chunks[0].text == first.strip()
    assert chunks[1].text == second.strip()


def test_empty_and_whitespace_text_have_no_chunks():
    assert chunk_text("", ChunkingConfig()) == []
    assert chunk_text(" \n\n\t ", ChunkingConfig()) == []
