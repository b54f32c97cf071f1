"""Loading the three dataset formats for `quarry eval qa`: gold answers, gold sources, precise errors."""

import json
from pathlib import Path

import pytest

from bench.synthetic_hotpot import generate
from quarry.errors import DatasetError
from quarry.eval.corpus_loader import read_documents_folder, sliced_folder
from quarry.eval.datasets import load_qa_dataset

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def resolver(known: dict[str, str]):
    return known.get


def test_qa_jsonl_questions_answers_and_resolved_gold_sources(tmp_path: Path):
    path = write_jsonl(
        tmp_path / "set.jsonl",
        [
            {
                "id": "owner",
                "question": " Which team owns Ledgerline? ",
                "answers": ["Payments Core"],
                "gold_sources": ["wiki/ledgerline.md"],
            },
            {"question": "Who leads Edge?", "answers": ["Rafael Costa", "R. Costa"]},
        ],
    )
    data = load_qa_dataset(path, resolve_source=resolver({"wiki/ledgerline.md": "doc_1"}))
    assert data.format == "qa-jsonl" and data.name == "set" and data.documents == []
    first, second = data.queries
    assert (first.id, first.text, first.answers, first.relevant) == (
        "owner",
        "Which team owns Ledgerline?",
        ("Payments Core",),
        {"doc_1": 1},
    )
    assert (second.id, second.answers, second.relevant) == ("q2", ("Rafael Costa", "R. Costa"), {}), (
        "id defaults to q<record>"
    )
    assert [
        q.id for q in load_qa_dataset(path, limit=1, resolve_source=resolver({"wiki/ledgerline.md": "d"})).queries
    ] == ["owner"]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"question": "a?", "answers": ["x"]}, {"question": "b?"}], r"set.jsonl:2: missing field 'answers'"),
        ([{"question": "   ", "answers": ["x"]}], r"set.jsonl:1: empty question"),
        ([{"question": "a?", "answers": ["x"]}, {"answers": ["y"]}], r"set.jsonl:2: missing field 'question'"),
        (
            [{"question": "a?", "answers": "Payments Core"}],
            r"set.jsonl:1: 'answers' must be a list of non-empty strings",
        ),
        ([{"question": "a?", "answers": []}], r"set.jsonl:1: 'answers' is empty"),
        (
            [{"question": "a?", "answers": ["x"], "gold_sources": ["nowhere.md"]}],
            r"set.jsonl:1: gold source 'nowhere.md' matches no document",
        ),
        (
            [{"id": "a", "question": "a?", "answers": ["x"]}, {"id": "a", "question": "b?", "answers": ["y"]}],
            r"set.jsonl:2: duplicate id 'a' \(also record 1\)",
        ),
    ],
)
def test_qa_jsonl_errors_name_the_record_and_field(tmp_path: Path, records: list[dict], message: str):
    path = write_jsonl(tmp_path / "set.jsonl", records)
    with pytest.raises(DatasetError, match=message):
        load_qa_dataset(path, resolve_source=resolver({}))


def test_qa_jsonl_without_documents_is_refused(tmp_path: Path):
    path = write_jsonl(tmp_path / "set.jsonl", [{"question": "a?", "answers": ["x"]}])
    with pytest.raises(DatasetError, match=r"is a QA JSONL set with no documents of its own: pass --documents DIR"):
        load_qa_dataset(path)


def test_unreadable_dataset_is_a_dataset_error(tmp_path: Path):
    path = tmp_path / "set.jsonl"
    path.write_bytes(b'{"question": "caf\xe9?", "answers": ["x"]}\n')
    with pytest.raises(DatasetError, match=r"set.jsonl: not UTF-8 text \(byte 17\)"):
        load_qa_dataset(path)


def test_hotpot_answers_and_supporting_paragraphs(tmp_path: Path):
    record = {
        "_id": "h1",
        "question": "Who owns Ledgerline?",
        "answer": "Payments Core",
        "supporting_facts": [["Ledgerline", 0], ["Payments Core", 0]],
        "context": [
            ["Ledgerline", ["Ledgerline is owned by Payments Core."]],
            ["Payments Core", ["A team."]],
            ["Other", ["x."]],
        ],
    }
    path = tmp_path / "hotpot.json"
    path.write_text(json.dumps([record, {**record, "_id": "h2", "question": "  "}]))
    with pytest.raises(DatasetError, match=r"hotpot.json:2: empty question"):
        load_qa_dataset(path)
    path.write_text(json.dumps([record, {k: v for k, v in record.items() if k != "supporting_facts"} | {"_id": "h2"}]))
    with pytest.raises(DatasetError, match=r"hotpot.json:2: missing field 'supporting_facts'"):
        load_qa_dataset(path)
    path.write_text(json.dumps([record]))
    data = load_qa_dataset(path)
    [query] = data.queries
    assert data.format == "hotpotqa" and len(data.documents) == 3
    assert query.answers == ("Payments Core",) and query.relevant == {"t:Ledgerline": 1, "t:Payments Core": 1}


def test_beir_has_gold_documents_but_no_answers(tmp_path: Path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    write_jsonl(folder / "corpus.jsonl", [{"_id": "d1", "title": "A", "text": "alpha"}])
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "alpha?"}, {"_id": "q2"}])
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    with pytest.raises(DatasetError, match=r"queries.jsonl:2: missing field 'text'"):
        load_qa_dataset(folder)
    write_jsonl(folder / "queries.jsonl", [{"_id": "q1", "text": "alpha?"}])
    [query] = load_qa_dataset(folder).queries
    assert query.answers == () and query.relevant == {"d1": 1}


def test_documents_folder_resolves_ids_paths_and_sources():
    folder = read_documents_folder(EXAMPLES / "corpus", EXAMPLES / "questions.jsonl", max_bytes=10_000_000)
    assert len(folder.documents) == 32 and folder.refusals() == []
    ledgerline = folder.resolve("wiki/ledgerline.md")
    assert ledgerline is not None and ledgerline.startswith("doc_")
    assert folder.resolve("corpus/wiki/ledgerline.md") == ledgerline, "relative to the dataset file's folder"
    assert folder.resolve("./wiki/ledgerline.md") == folder.resolve(ledgerline) == ledgerline
    assert folder.resolve("https://wiki.halyard.example/changelog/2024-04") is not None, "a JSONL record's source"
    assert folder.resolve("wiki/nope.md") is None
    data = load_qa_dataset(EXAMPLES / "questions.jsonl", resolve_source=folder.resolve)
    assert (
        len(data.queries) == 12 and data.queries[0].answers == ("Dana Okafor",) and len(data.queries[0].relevant) == 3
    )
    small = sliced_folder(folder, {ledgerline}, 5)
    assert len(small.documents) == 5 and ledgerline in {d.id for d in small.documents}
    assert small.resolve("wiki/ledgerline.md") == ledgerline
    assert set(small.aliases.values()) == {d.id for d in small.documents}, "no alias points outside the slice"


def test_documents_folder_must_exist(tmp_path: Path):
    with pytest.raises(DatasetError, match=r"--documents '.*missing' is not a folder of documents"):
        read_documents_folder(tmp_path / "missing", tmp_path / "set.jsonl", max_bytes=1000)


def test_synthetic_hotpot_is_deterministic_and_loads_as_hotpot(tmp_path: Path):
    records = generate(14, seed=3)
    assert records == generate(14, seed=3) and records != generate(14, seed=4)
    path = tmp_path / "synthetic.json"
    path.write_text(json.dumps(records))
    data = load_qa_dataset(path)
    assert data.format == "hotpotqa" and len(data.queries) == 14
    assert len(data.documents) == 140, "10 paragraphs per question, each about an entity of its own"
    assert len({q.text.split(" ", 3)[1] for q in data.queries}) > 3, "relation types vary"
    for record, query in zip(records, data.queries):
        assert query.id.startswith("synthetic-") and len(query.relevant) == 2 and query.multi_hop
        context = dict((title, sentences) for title, sentences in record["context"])
        (first, link), (bridge, fact) = record["supporting_facts"]
        assert bridge in context[first][link], "the first paragraph names the bridge entity"
        assert record["answer"] in context[bridge][fact], "the bridge paragraph states the answer"
