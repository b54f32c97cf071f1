from hypothesis import given, settings
from hypothesis import strategies as st

from quarry.corpus.chunking import chunk_text
from quarry.corpus.config import ChunkingConfig
from quarry.corpus.entities import OfflineExtractor, entity_key

TEXT = (
    "Ledgerline is owned by the Payments Core team. The team is led by Dana Okafor.\n\n"
    "When Keel failed over in March, ADR-013 applied. Nobody was paged. Settlement files were late; "
    "settlement resumed later. It uses TLS."
)


def extract(text: str = TEXT, title: str = "Ledgerline notes", gazetteer=()):
    return OfflineExtractor(gazetteer).extract(title, text, chunk_text(text, ChunkingConfig()))


def test_names_identifiers_and_title_are_entities_and_junk_is_not():
    names = extract().names
    assert {"ledgerline", "payments core", "dana okafor", "keel", "adr-013", "tls", "ledgerline notes"} <= set(names)
    assert names["adr-013"] == ("ADR-013", "identifier") and names["ledgerline notes"][1] == "title"
    for junk in ("the", "when", "march", "nobody", "it", "settlement"):
        assert junk not in names, junk


def test_mention_offsets_point_at_the_surface_form():
    result = extract()
    body_mentions = [m for m in result.mentions if m.kind != "title"]
    assert body_mentions and all(TEXT[m.start_char : m.end_char] == m.name for m in body_mentions)


def test_relations_are_labelled_by_the_words_between_names():
    relations = {(r.source_key, r.label, r.target_key) for r in extract().relations}
    assert ("ledgerline", "owned by", "payments core") in relations
    assert ("ledgerline notes", "mentions", "dana okafor") in relations
    assert not any(r[0] == r[2] for r in relations)


def test_far_apart_names_in_one_sentence_are_co_mentions():
    text = "Beacon, Tidewater and Harbor Gate subscribe; each runs in Frankfurt (eu-central) and Oregon."
    relations = {(r.source_key, r.label, r.target_key) for r in extract(text).relations}
    assert ("beacon", "co-mention", "oregon") in relations


def test_gazetteer_names_are_found_in_any_case():
    result = extract("We moved the redpanda brokers.", gazetteer=["Redpanda"])
    [mention] = [m for m in result.mentions if m.key == "redpanda"]
    assert mention.kind == "gazetteer" and mention.name == "Redpanda"


def test_entity_key_normalises_case_space_and_possessive():
    assert entity_key("  Payments   Core ") == entity_key("payments core") == "payments core"
    assert entity_key("Northwind's") == "northwind"


pieces = st.sampled_from(
    [
        "The",
        "Ledgerline",
        "Payments  Core",
        "of",
        "ADR-7",
        "\t",
        " ",
        ". ",
        "\n\n",
        "is owned by",
        "Dana\tOkafor",
        "é",
        "When",
        "X",
        "'s",
        "数据",
        "March",
        "-1",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(pieces, max_size=40).map("".join), st.text(max_size=20))
def test_extraction_never_fails_and_offsets_always_hold(text, title):
    result = OfflineExtractor(["Payments Core"]).extract(title or "t", text, chunk_text(text, ChunkingConfig()))
    for mention in result.mentions:
        if mention.kind != "title":
            assert text[mention.start_char : mention.end_char].casefold() == mention.name.casefold()
