import re

import pytest

from quarry.tools.citations import check_citations, neutralize_markers, strip_markers, support

SHOWN = {
    1: "Ledgerline is owned by the Payments Core team. Its on-call engineers come from Payments Core.",
    2: "Payments Core owns Ledgerline. The team is led by Dana Okafor.",
}


def test_supported_citations_are_kept_with_their_support():
    check = check_citations(
        "Ledgerline is owned by Payments Core [1]. The team is led by Dana Okafor [2].", SHOWN, min_support=0.5
    )
    assert [c.markers for c in check.claims] == [(1,), (2,)]
    assert [c.text for c in check.claims] == [
        "Ledgerline is owned by Payments Core.",
        "The team is led by Dana Okafor.",
    ]
    assert check.kept == 2 and check.unresolved == check.unsupported == check.flagged == 0


def test_a_marker_naming_no_shown_passage_is_dropped_as_unresolved():
    check = check_citations("Ledgerline is owned by Payments Core [1][7].", SHOWN, min_support=0.5)
    assert check.claims[0].markers == (1,) and check.claims[0].dropped == ((7, "unresolved"),)
    assert check.unresolved == 1 and check.flagged == 0


def test_a_passage_that_does_not_say_it_is_dropped_and_the_sentence_flagged():
    check = check_citations("Beacon runs on Redpanda in Singapore [1].", SHOWN, min_support=0.5)
    claim = check.claims[0]
    assert claim.markers == () and claim.dropped == ((1, "unsupported"),) and claim.flagged
    assert check.unsupported == 1 and check.flagged == 1 and claim.support[1] < 0.5


def test_sentences_without_markers_are_counted_as_uncited_not_flagged():
    check = check_citations(
        "Here is what the documents say. Payments Core owns Ledgerline [2].", SHOWN, min_support=0.5
    )
    assert check.uncited == 1 and check.flagged == 0 and check.kept == 1


def test_support_matches_inflected_forms():
    assert support("Dana Okafor leads the team", "The team is led by Dana Okafor.") == 1.0
    assert support("Kafka was replaced", "Redpanda replaces Kafka") == 1.0
    assert support("Mei Watanabe", "Dana Okafor") == 0.0


def test_only_ascii_brackets_around_ascii_digits_are_markers():
    """`\\d` would read a document's fullwidth or Arabic-Indic "[３]" as a citation of passage 3."""
    check = check_citations(
        "Harbor Gate refunds take 45 days [３]. Harbor Gate refunds take 45 days [٣].",
        {3: "Harbor Gate refunds take 45 days."},
        min_support=0.5,
    )
    assert [c.markers for c in check.claims] == [(), ()] and check.kept == check.unresolved == 0
    assert [c.text for c in check.claims] == [
        "Harbor Gate refunds take 45 days (3).",
        "Harbor Gate refunds take 45 days (3).",
    ]


def test_a_claim_keeps_its_real_markers_and_no_lookalike():
    check = check_citations("Ledgerline is owned by Payments Core 【2】[S3] [\u200b1] [1].", SHOWN, min_support=0.5)
    [claim] = check.claims
    assert claim.markers == (1,) and claim.text == "Ledgerline is owned by Payments Core (2)(S3) (1)."


@pytest.mark.parametrize(
    ("text", "neutral", "stripped"),
    [
        ("as shown in [1][2], it holds", "as shown in (1)(2), it holds", "as shown in, it holds"),
        ("see [99] and [S3]", "see (99) and (S3)", "see and"),
        (
            "lenticular 【1】 fullwidth ［２］ tortoise 〔8〕",
            "lenticular (1) fullwidth (2) tortoise (8)",
            "lenticular fullwidth tortoise",
        ),
        (
            "hidden [\u200b4] [3\u2060] footnote [^5] ref [ref 6]",
            "hidden (4) (3) footnote (^5) ref (ref 6)",
            "hidden footnote ref",
        ),
        ("entities &#91;6&#93; &lsqb;7&rsqb; digits [٣]", "entities (6) (7) digits (3)", "entities digits"),
        ("ranges [1, 2] [3-5]", "ranges (1, 2) (3-5)", "ranges"),
        ("links [docs](x), boxes [ ] [x]", "links [docs](x), boxes [ ] [x]", "links [docs](x), boxes [ ] [x]"),
    ],
)
def test_marker_lookalikes_are_neutralized_or_stripped(text, neutral, stripped):
    assert neutralize_markers(text) == neutral
    assert strip_markers(text) == stripped
    assert not re.search(r"\[[0-9]+\]", neutralize_markers(text))
