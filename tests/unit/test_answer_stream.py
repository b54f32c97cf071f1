from quarry.tools.llm.answer_stream import AnswerStream
from quarry.tools.llm.prompts import parse_synthesis

REPLY = (
    "Let me look.\n**ANSWER:**\nKeel is owned by Platform [1].\nGap analysis:\nGAP is a word [2].\n"
    "## GAPS:\n- who funds Keel\n"
)


def test_every_split_of_a_reply_streams_exactly_its_answer_section():
    expected = "Keel is owned by Platform [1].\nGap analysis:\nGAP is a word [2].\n"
    assert parse_synthesis(REPLY).answer == expected.strip()
    for size in range(1, len(REPLY) + 1):
        stream = AnswerStream()
        shown = "".join(stream.feed(REPLY[i : i + size]) for i in range(0, len(REPLY), size))
        assert shown == expected, size


def test_a_line_that_may_become_a_label_is_held_back_until_it_cannot():
    stream = AnswerStream()
    assert stream.feed("ANSWER: Keel [1].\nGA") == "Keel [1].\n"
    assert stream.feed("P") == ""
    assert stream.feed("ing") == "GAPing"
    assert stream.feed("\nGAPS: x\nmore text") == "\n"  # the section ends at the label
    assert stream.feed(" and more") == ""


def test_a_reply_without_an_answer_label_streams_nothing():
    assert AnswerStream().feed("Keel is owned by Platform [1].\n") == ""
