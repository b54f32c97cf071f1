from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from quarry.corpus.filters import Principal, SearchFilters
from quarry.tools.bm25 import allowed_mask, build_index, guarded_idf, reader_stats, score_all
from quarry.tools.config import Bm25Config
from quarry.tools.text import tokenize

CONFIG = Bm25Config()
TS = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def rows(*bodies: str, **columns) -> list[dict]:
    return [
        {
            "id": i + 1,
            "body": body,
            "access": columns.get("access", ["public"]),
            "tags": [],
            "domain": "d",
            "author": "a",
            "ts": TS,
        }
        for i, body in enumerate(bodies)
    ]


class Scorer:
    """Score with the arithmetic Bm25Search uses, without a database, for a reader of `groups`."""

    def __init__(self, index, config=CONFIG, groups=("public",)):
        self.index, self.config = index, config
        readable = allowed_mask(index, SearchFilters(), Principal(groups=groups))
        self.stats = reader_stats(index, readable, config)

    def __call__(self, query: str):
        if self.stats is None:
            return None
        return score_all(self.index, self.stats, tokenize(query, stop_words=self.config.stop_words), self.config)


def test_tokenizer_is_unicode_aware_casefolded_and_drops_stop_words():
    assert tokenize("The Ångström of REDPANDA's 2024 数据!") == ["ångström", "redpanda", "2024", "数据"]
    assert tokenize("The cat", stop_words=False) == ["the", "cat"]
    assert tokenize("ﬁle") == ["file"]  # NFKC folds the ligature


def test_empty_corpus_scores_nothing():
    index = build_index(1, [], CONFIG)
    assert index.size == 0 and Scorer(index)("anything") is None


def test_one_document_and_all_same_documents_still_rank_matches_first():
    one = build_index(1, rows("Ledgerline settles invoices"), CONFIG)
    assert Scorer(one)("ledgerline")[0] > 0
    same = build_index(1, rows(*["Ledgerline settles invoices"] * 3, "Beacon carries events"), CONFIG)
    scores = Scorer(same)("ledgerline")
    assert scores[0] == scores[1] == scores[2] > scores[3] == 0


def test_term_in_every_document_of_a_tiny_corpus_keeps_a_positive_idf():
    index = build_index(1, rows("keel failover", "keel replicas"), CONFIG)
    scores = Scorer(index)("keel failover")
    assert scores[0] > scores[1] > 0, "matching more query terms must rank higher; a common term must not subtract"
    raw = BM25Okapi([["keel", "failover"], ["keel", "replicas"]]).idf
    assert raw["keel"] <= 0 < guarded_idf(raw)["keel"]


def test_unknown_terms_and_stop_words_only_match_nothing():
    index = build_index(1, rows("Ledgerline settles invoices"), CONFIG)
    assert Scorer(index)("zebra") is None and Scorer(index)("the of and") is None


def test_a_reader_who_reads_nothing_gets_no_statistics():
    index = build_index(1, rows("Ledgerline settles invoices", access=["finance"]), CONFIG)
    assert Scorer(index, groups=("public",))("ledgerline") is None
    assert Scorer(index, groups=())("ledgerline") is None


words = st.sampled_from(
    ["keel", "beacon", "ledgerline", "redpanda", "failover", "lag", "tls", "harbor", "gate", "disk"]
)


@settings(max_examples=80, deadline=None)
@given(
    corpus=st.lists(st.lists(words, min_size=1, max_size=12).map(" ".join), min_size=1, max_size=25),
    query=st.lists(words, min_size=1, max_size=4).map(" ".join),
)
def test_vectorised_scores_equal_rank_bm25_get_batch_scores(corpus, query):
    index = build_index(1, rows(*corpus), CONFIG)
    ours = Scorer(index)(query)
    reference = BM25Okapi([tokenize(body) for body in corpus], k1=CONFIG.k1, b=CONFIG.b, epsilon=CONFIG.epsilon)
    reference.idf = guarded_idf(reference.idf)
    expected = reference.get_batch_scores(tokenize(query), list(range(len(corpus))))
    if ours is None:
        assert not any(expected)
    else:
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)


def test_filter_mask_applies_access_and_metadata():
    data = [
        {"id": 1, "body": "x", "access": ["public"], "tags": ["db"], "domain": "eng", "author": "A", "ts": TS},
        {"id": 2, "body": "x", "access": ["security"], "tags": [], "domain": "eng", "author": "B", "ts": TS + 10},
        {
            "id": 3,
            "body": "x",
            "access": ["public", "sre"],
            "tags": ["api"],
            "domain": "ops",
            "author": "B",
            "ts": TS + 20,
        },
    ]
    index = build_index(1, data, CONFIG)
    public = Principal(groups=("public",))
    assert allowed_mask(index, SearchFilters(), public).tolist() == [True, False, True]
    assert allowed_mask(index, SearchFilters(), Principal(groups=("security",))).tolist() == [False, True, False]
    assert allowed_mask(index, SearchFilters(), Principal(groups=())).tolist() == [False, False, False]
    assert allowed_mask(index, SearchFilters(domains=("ops",)), public).tolist() == [False, False, True]
    assert allowed_mask(index, SearchFilters(tags=("db", "api")), public).tolist() == [True, False, True]
    after = datetime.fromtimestamp(TS + 10, tz=UTC)
    assert allowed_mask(
        index, SearchFilters(published_after=after), Principal(groups=("public", "security"))
    ).tolist() == [False, True, True]
    assert allowed_mask(
        index, SearchFilters(published_before=after), Principal(groups=("public", "security"))
    ).tolist() == [True, False, False]


@settings(max_examples=80, deadline=None)
@given(
    corpus=st.lists(
        st.tuples(st.lists(words, min_size=0, max_size=12).map(" ".join), st.sampled_from(["public", "finance"])),
        min_size=1,
        max_size=25,
    ),
    query=st.lists(words, min_size=1, max_size=4).map(" ".join),
)
def test_a_readers_scores_are_rank_bm25_over_the_chunks_they_may_read(corpus, query):
    """M1: IDF, N and avgdl come from the reader's view only. The reference is BM25Okapi built over the
    public chunks alone; the finance chunks, whose words overlap, must not move a public score."""
    data = [
        {"id": i + 1, "body": body, "access": [group], "tags": [], "domain": "d", "author": "a", "ts": TS}
        for i, (body, group) in enumerate(corpus)
    ]
    index = build_index(1, data, CONFIG)
    ours = Scorer(index)(query)
    public = [i for i, (_, group) in enumerate(corpus) if group == "public"]
    documents = [tokenize(corpus[i][0]) for i in public]
    if not public or not any(documents):
        assert ours is None or not ours[public].any()
        return
    reference = BM25Okapi(documents, k1=CONFIG.k1, b=CONFIG.b, epsilon=CONFIG.epsilon)
    reference.idf = guarded_idf(reference.idf)
    expected = reference.get_batch_scores(tokenize(query), list(range(len(public))))
    got = np.zeros(len(public)) if ours is None else ours[public]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_readers_with_the_same_readable_sets_share_statistics_across_term_order():
    """The view's numbers do not depend on where unreadable words sit in the vocabulary."""
    public = ["keel failover lag", "keel beacon", "harbor gate disk"]
    first = build_index(1, rows(*public), CONFIG)
    mixed = [
        {
            "id": 1,
            "body": "zebra yak keel gate",
            "access": ["finance"],
            "tags": [],
            "domain": "d",
            "author": "a",
            "ts": TS,
        },
        *rows(*public),
    ]
    second = build_index(1, mixed, CONFIG)
    for query in ("keel", "keel failover", "gate disk harbor", "beacon keel keel"):
        a, b = Scorer(first)(query), Scorer(second)(query)
        assert a.tolist() == b[1:].tolist(), query  # bit-identical, not merely close
