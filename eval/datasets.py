"""Loaders for the evaluation formats in ../shared/data (see its README).

- BEIR retrieval folders: corpus.jsonl {_id,title,text}, queries.jsonl {_id,text},
  qrels/test.tsv (query-id, corpus-id, score) with a header line.
- HotpotQA-style multi-hop (.json array or .jsonl): _id/id, question, answer, supporting_facts
  [[title, sentence_id]...], context [[title, [sentences]]...] or {title: [...], sentences: [[...]]}.
- Generic QA JSONL: question, answers (list), optional gold_sources.
"""

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from quarry.errors import DatasetError

Format = Literal["beir", "hotpotqa", "qa-jsonl"]
# File names that say nothing about the set: such a file takes its folder's name.
GENERIC_STEMS = frozenset({"questions", "queries", "data", "dev", "test", "train", "corpus"})


@dataclass(frozen=True)
class EvalDocument:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuery:
    id: str
    text: str
    relevant: dict[str, int]
    """Gold document id → graded relevance (> 0)."""
    answers: tuple[str | tuple[str, ...], ...] = ()
    """Gold answers (aliases); a tuple is the parts of one compound answer, all required."""
    multi_hop: bool = False
    """All gold documents are needed together (HotpotQA supporting paragraphs)."""


@dataclass
class EvalDataset:
    name: str
    format: Format
    documents: list[EvalDocument] = field(default_factory=list)
    queries: list[EvalQuery] = field(default_factory=list)


def detect_format(path: Path) -> Format:
    if path.is_dir():
        if (path / "corpus.jsonl").exists() and (path / "queries.jsonl").exists():
            return "beir"
        hotpot = sorted(path.glob("*.json")) + sorted(path.glob("*.jsonl"))
        if hotpot:
            return detect_format(hotpot[0])
        raise DatasetError(
            f"'{path}' is a folder but not a BEIR dataset (needs corpus.jsonl, queries.jsonl and qrels/test.tsv)"
        )
    if not path.exists():
        raise DatasetError(f"dataset '{path}' does not exist")
    first = _first_record(path)
    if "supporting_facts" in first and "context" in first:
        return "hotpotqa"
    if "question" in first and "answers" in first:
        return "qa-jsonl"
    raise DatasetError(
        f"cannot tell the format of '{path}': its first record has keys {sorted(first)}; expected HotpotQA "
        "(question, answer, supporting_facts, context) or QA JSONL (question, answers[, gold_sources])"
    )


def load_dataset(path: Path, *, limit: int | None = None) -> EvalDataset:
    kind = detect_format(path)
    if kind == "beir":
        return _load_beir(path, limit)
    if kind == "hotpotqa":
        return _load_hotpot(path if path.is_file() else _hotpot_file(path), limit, dataset_name(path))
    raise DatasetError(f"'{path}' is a QA JSONL set with no corpus of its own; retrieval eval needs BEIR or HotpotQA")


def discover_sets(path: Path) -> list[Path]:
    """`path` itself when it is one set; else every sub-folder of it that is a retrieval set
    (BEIR or HotpotQA-style), by name. Folders of other things (PDF samples) are passed over."""
    try:
        if detect_format(path) in ("beir", "hotpotqa"):
            return [path]
    except DatasetError:
        if not path.is_dir():
            raise
    found = []
    for folder in sorted(p for p in path.iterdir() if p.is_dir()):
        try:
            if detect_format(folder) in ("beir", "hotpotqa"):
                found.append(folder)
        except DatasetError:
            continue
    if not found:
        raise DatasetError(
            f"'{path}' is neither a retrieval set nor a folder of them (BEIR folders or HotpotQA .json/.jsonl files)"
        )
    return found


def load_qa_dataset(
    path: Path, *, limit: int | None = None, resolve_source: Callable[[str], str | None] | None = None
) -> EvalDataset:
    """Any of the three formats, for question answering. A QA JSONL set has no documents of its own:
    `resolve_source` maps each of its gold sources to the id of a document from the documents folder
    (None: unknown), and without it the set is refused."""
    kind = detect_format(path)
    if kind != "qa-jsonl":
        return load_dataset(path, limit=limit)
    if resolve_source is None:
        raise DatasetError(
            f"'{path}' is a QA JSONL set with no documents of its own: pass --documents DIR "
            "(a folder of Quarry documents, e.g. examples/corpus)"
        )
    return _load_qa_jsonl(path, limit, resolve_source)


def _load_qa_jsonl(path: Path, limit: int | None, resolve_source: Callable[[str], str | None]) -> EvalDataset:
    dataset = EvalDataset(path.stem, "qa-jsonl")
    ids: dict[str, int] = {}
    for number, record in _records(path):
        if limit and len(dataset.queries) >= limit:
            break
        query_id = _query_id(record, number, ids, path)
        question = _question(record, path, number)
        answers = _answers(_require(record, "answers", path, number), path, number)
        if not answers:
            raise DatasetError(f"{path}:{number}: 'answers' is empty (give at least one gold answer)")
        gold: dict[str, int] = {}
        for label in _strings(
            record.get("gold_sources") or [], "gold_sources", path, number, example='["wiki/ledgerline.md"]'
        ):
            document_id = resolve_source(label)
            if document_id is None:
                raise DatasetError(
                    f"{path}:{number}: gold source '{label}' matches no document in the documents folder "
                    "(give a document id, or a path relative to the folder or to the dataset file)"
                )
            gold[document_id] = 1
        dataset.queries.append(EvalQuery(query_id, question, gold, tuple(answers), multi_hop=len(gold) > 1))
    return dataset


def _load_beir(folder: Path, limit: int | None) -> EvalDataset:
    qrels_path = folder / "qrels" / "test.tsv"
    if not qrels_path.exists():
        raise DatasetError(f"BEIR dataset '{folder}' has no qrels/test.tsv")
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(qrels_path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.rstrip("\r").split("\t")
        if len(parts) == 3 and number == 1 and not parts[2].strip().lstrip("-").isdigit():
            continue  # header
        if len(parts) != 3 or not parts[2].strip().lstrip("-").isdigit():
            raise DatasetError(f"{qrels_path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score'")
        score = int(parts[2])
        if score > 0:
            qrels.setdefault(parts[0], {})[parts[1]] = score
    dataset = EvalDataset(folder.name, "beir")
    for number, record in _records(folder / "corpus.jsonl"):
        doc_id, text = _require(record, "_id", folder / "corpus.jsonl", number), record.get("text") or ""
        title = (record.get("title") or "").strip()
        dataset.documents.append(EvalDocument(str(doc_id), title, text))
    ids: dict[str, int] = {}
    for number, record in _records(folder / "queries.jsonl"):
        query_id = _query_id(
            {"_id": _require(record, "_id", folder / "queries.jsonl", number)}, number, ids, folder / "queries.jsonl"
        )
        text = str(_require(record, "text", folder / "queries.jsonl", number)).strip()
        if not text:
            raise DatasetError(f"{folder / 'queries.jsonl'}:{number}: empty query 'text'")
        if query_id in qrels:
            dataset.queries.append(EvalQuery(query_id, text, qrels[query_id]))
    dataset.queries = dataset.queries[:limit] if limit else dataset.queries
    return dataset


def dataset_name(path: Path) -> str:
    """A set is named after its folder: `musique/questions.jsonl` is 'musique', not 'questions'."""
    if path.is_dir() or path.stem.lower() in GENERIC_STEMS:
        return (path if path.is_dir() else path.resolve().parent).name
    return path.stem


def _load_hotpot(path: Path, limit: int | None, name: str | None = None) -> EvalDataset:
    dataset = EvalDataset(name or dataset_name(path), "hotpotqa")
    seen: dict[str, EvalDocument] = {}
    ids: dict[str, int] = {}
    for number, record in _records(path):
        if limit and len(dataset.queries) >= limit:
            break
        query_id = _query_id(record, number, ids, path)
        question = _question(record, path, number)
        titles_sentences = _hotpot_context(record.get("context"), path, number)
        by_position = "supporting_context_idx" in record
        paragraph_ids = []
        for title, sentences in titles_sentences:
            text = " ".join(s.strip() for s in sentences)
            doc_id = _paragraph_id(title, text) if by_position else _title_id(title)
            paragraph_ids.append(doc_id)
            seen.setdefault(doc_id, EvalDocument(doc_id, title, text))
        if by_position:
            gold = {
                paragraph_ids[i]: 1
                for i in _positions(record["supporting_context_idx"], len(paragraph_ids), path, number)
            }
        else:
            gold = {_title_id(fact[0]): 1 for fact in _require(record, "supporting_facts", path, number)}
        answer = record.get("answer")
        dataset.queries.append(
            EvalQuery(query_id, question, gold, (answer,) if answer else (), multi_hop=len(gold) > 1)
        )
    dataset.documents = list(seen.values())
    return dataset


def _hotpot_context(context: Any, path: Path, number: int) -> list[tuple[str, list[str]]]:
    if isinstance(context, dict) and "title" in context and "sentences" in context:
        return list(zip(context["title"], context["sentences"]))
    if isinstance(context, list) and all(isinstance(c, list) and len(c) == 2 for c in context):
        return [(c[0], c[1]) for c in context]
    raise DatasetError(
        f"{path}:{number}: 'context' must be [[title, [sentences]]...] or {{title: [...], sentences: [...]}}"
    )


def _hotpot_file(folder: Path) -> Path:
    return (sorted(folder.glob("*.json")) + sorted(folder.glob("*.jsonl")))[0]


def _title_id(title: str) -> str:
    return "t:" + " ".join(title.split())


def _paragraph_id(title: str, text: str) -> str:
    """MuSiQue repeats titles inside a question: a paragraph is its title and text together
    (identical paragraphs shared by two questions are one document in the pooled corpus)."""
    digest = hashlib.sha1(f"{' '.join(title.split())}\n{' '.join(text.split())}".encode()).hexdigest()[:16]
    return f"p:{digest}"


def _positions(value: Any, size: int, path: Path, number: int) -> list[int]:
    if not isinstance(value, list) or not value or not all(isinstance(i, int) and 0 <= i < size for i in value):
        raise DatasetError(
            f"{path}:{number}: 'supporting_context_idx' must be a non-empty list of positions in 'context' (0..{size - 1})"
        )
    return value


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise DatasetError(f"missing file '{path}'")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DatasetError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON array of records")
        for number, record in enumerate(data, start=1):
            yield number, _object(record, path, number)
        return
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other Unicode line breaks.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                yield number, _object(json.loads(line), path, number)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path}:{number}: not valid JSON: {exc.msg}") from None


def _first_record(path: Path) -> dict[str, Any]:
    for _, record in _records(path):
        return record
    raise DatasetError(f"dataset '{path}' is empty")


def _object(record: Any, path: Path, number: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise DatasetError(f"{path}:{number}: each record must be a JSON object")
    return record


def _require(record: dict[str, Any], key: str, path: Path, number: int) -> Any:
    if key not in record or record[key] in (None, ""):
        raise DatasetError(f"{path}:{number}: missing field '{key}'")
    return record[key]


def _question(record: dict[str, Any], path: Path, number: int) -> str:
    question = _require(record, "question", path, number)
    if not isinstance(question, str):
        raise DatasetError(f"{path}:{number}: 'question' must be a string")
    if not question.strip():
        raise DatasetError(f"{path}:{number}: empty question")
    return question.strip()


def _query_id(record: dict[str, Any], number: int, ids: dict[str, int], path: Path) -> str:
    """The record's _id/id (else q<record number>), unique in the file: resumed runs skip by id."""
    query_id = str(record.get("_id") or record.get("id") or f"q{number}")
    if query_id in ids:
        raise DatasetError(f"{path}:{number}: duplicate id '{query_id}' (also record {ids[query_id]})")
    ids[query_id] = number
    return query_id


def _answers(value: Any, path: Path, number: int) -> list[str | tuple[str, ...]]:
    """Aliases, each a string or a list of the parts a compound answer needs."""
    example = '["Payments Core"] or [["Redpanda", "ADR-015"]]'
    if not isinstance(value, list):
        raise DatasetError(f"{path}:{number}: 'answers' must be a list of non-empty strings, e.g. {example}")
    return [
        tuple(_strings(item, "answers", path, number, example=example))
        if isinstance(item, list) and item
        else _strings([item], "answers", path, number, example=example)[0]
        for item in value
    ]


def _strings(value: Any, key: str, path: Path, number: int, *, example: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(f"{path}:{number}: '{key}' must be a list of non-empty strings, e.g. {example}")
    return [v.strip() for v in value]


def sliced(dataset: EvalDataset, max_documents: int) -> EvalDataset:
    """A smaller corpus for quick runs: every gold document of the kept queries, then others in
    file order up to `max_documents` (gold documents are never dropped, so recall stays meaningful)."""
    gold = {doc for query in dataset.queries for doc in query.relevant}
    kept = [d for d in dataset.documents if d.id in gold]
    room = max(0, max_documents - len(kept))
    kept += [d for d in dataset.documents if d.id not in gold][:room]
    return EvalDataset(f"{dataset.name}-{len(kept)}", dataset.format, kept, list(dataset.queries))
