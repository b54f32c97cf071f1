"""Question parts and their answers, short answers, list-aware sentences and citation quotes (pure)."""

from quarry.graph.budget.pool import Remaining
from quarry.tools.question_parts import CitedSentence, open_parts, question_parts
from quarry.tools.quotes import quote_span
from quarry.tools.sentences import readable, sentence_spans
from quarry.tools.short_answer import by_date, short_answer, yes_or_no

PAYMENTS = "Payments Core team"


def cited(*texts: str, title: str = PAYMENTS) -> list[CitedSentence]:
    return [CitedSentence(text=t, titles=title) for t in texts]


def test_a_compound_question_has_one_part_per_clause_each_with_its_kind():
    parts = question_parts("Who leads the team that owns Heron, and where is that team based?")
    assert [(p.text, p.kind) for p in parts] == [
        ("Who leads the team that owns Heron", "person"),
        ("where is that team based", "place"),
    ]
    assert parts[0].names == ("Heron",) and parts[0].head == "lead"
    assert [p.kind for p in question_parts("How long are files kept?") + question_parts("Is Keel a database?")] == [
        "number",
        "yesno",
    ]


def test_a_part_is_answered_only_by_a_cited_sentence_of_the_kind_it_asks_for():
    parts = question_parts("Who leads the team that owns Ledgerline, and where is that team based?")
    owner = cited("Payments Core owns Ledgerline.", "The team is led by Dana Okafor.")
    assert [p.text for p in open_parts(parts, owner)] == ["where is that team based"]
    assert open_parts(parts, [*owner, *cited("Payments Core sits in the Frankfurt office.")]) == ()
    heron = question_parts("Who leads the team that owns Heron?")
    assert open_parts(heron, owner) == heron, "an answer that never reaches Heron does not answer it"
    assert open_parts(parts, []) == parts


def test_short_answers_are_the_entity_place_date_number_or_option_asked_for():
    who, where = question_parts("Who leads the team that owns Ledgerline, and where is that team based?")
    assert short_answer(who, "The team is led by Dana Okafor.") == "Dana Okafor"
    assert short_answer(where, "Payments Core sits in the Frankfurt office.") == "Frankfurt"
    [how_long] = question_parts("How long are Ledgerline settlement files kept?")
    assert short_answer(how_long, "Files are kept for seven years, as ADR-011 decided.") == "seven years"
    [what] = question_parts("What triggered the March 2024 settlement outage?")
    assert short_answer(what, "The trigger was a planned Keel failover in Frankfurt.") == (
        "a planned Keel failover in Frankfurt"
    )
    [year] = question_parts("What year did the series start?")
    assert short_answer(year, "It started in January 1952 on CBS.") == "1952"
    [first] = question_parts("Which film was released first, The Country Bears or The Wild?")
    assert by_date(first, ["The Country Bears is a 2002 film.", "The Wild is a 2006 film."]) == "Country Bears"
    [both] = question_parts("Are both Jim McBride and Neil Jordan American?")
    assert yes_or_no(both, ["Jim McBride is an American director.", "Neil Jordan is an Irish director."]) == "No"
    assert yes_or_no(both, ["Jim McBride is an American director.", "Neil Jordan is an American director."]) == "Yes"


def test_list_items_are_sentences_and_images_are_never_quoted_raw():
    text = "Owners:\n- Payments Core owns Ledgerline\n- Edge owns Harbor Gate\n1. Keel is a database"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Owners:",
        "Payments Core owns Ledgerline",
        "Edge owns Harbor Gate",
        "Keel is a database",
    ]
    assert readable("Cost per month ![cost chart](figures/cost.png) rose.") == "Cost per month cost chart rose."


def test_a_quote_is_the_supporting_sentence_not_the_heading_or_the_chunk():
    chunk = "# Payments Core\n\nPayments Core owns Ledgerline. The team is led by Dana Okafor. Members: Priya."
    start, end = quote_span(chunk, ["The team is led by Dana Okafor."])
    assert chunk[start:end] == "The team is led by Dana Okafor."
    start, end = quote_span(chunk, ["Payments Core owns Ledgerline.", "Dana Okafor leads it."])
    assert chunk[start:end] == "Payments Core owns Ledgerline. The team is led by Dana Okafor."
    assert quote_span(chunk, ["Nothing in common here."]) == (0, len(chunk))


def test_what_is_left_reads_as_units_not_a_repr():
    assert str(Remaining(seconds=52.03887152800007, tokens=1200, usd=0.24)) == "52.0 s, 1,200 tokens, $0.240000"
