"""Bad-input fuzzing without a database: every input gets a clear error or is accepted well-formed.

Each target has a check that runs one input through the real parser (loaders, metadata, settings,
the CLI up to where it would open the database) and returns "accepted" or "refused", raising on
anything else: another exception type, a traceback in the CLI's output, an accepted document whose
offsets do not slice its text, an error message that does not name the document, key or flag.
tests/fuzz runs the same checks as properties; `run_fuzz` counts them for the benchmark:

    python -m tests.support.fuzz_inputs            # bad inputs tried: N, crashes: 0
"""

import argparse
import contextlib
import io
import math
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.support.fuzz_strategies import (
    CONFIG_FILES,
    IMAGE_FILES,
    FileSet,
    argvs,
    config_documents,
    document_files,
    environments,
    metadata,
)

Outcome = Literal["accepted", "refused"]


class FuzzFailure(AssertionError):
    """An input broke the contract: a crash, or an accepted result that is not well-formed."""


# --- documents ---------------------------------------------------------------------------------


def write_files(folder: Path, files: FileSet) -> Path:
    """`files` in `folder`, beside the images documents refer to and a folder named like an image."""
    for name, data in IMAGE_FILES.items():
        (folder / name).write_bytes(data)
    (folder / "folder.png").mkdir(exist_ok=True)
    for name, data in files.files.items():
        (folder / name).write_bytes(data)
    return folder / files.target


def check_document_file(files: FileSet) -> Outcome:
    """Load one fuzzed document file; each result must be a well-formed document or a refusal naming it."""
    from quarry.corpus.loaders import Refusal, load_paths
    from quarry.corpus.metadata import SourceDocument

    with tempfile.TemporaryDirectory() as tmp:
        target = write_files(Path(tmp), files)
        results = list(load_paths([target], max_bytes=100_000, max_asset_bytes=100_000))
    if not results:
        raise FuzzFailure(f"no result at all for {files.target}")
    outcomes = set()
    for result in results:
        if files.target not in result.label:
            raise FuzzFailure(f"result labelled {result.label!r}, not after the file {files.target}")
        if isinstance(result, Refusal):
            check_refusal_reason(result.reason)
            outcomes.add("refused")
        elif isinstance(result, SourceDocument):
            check_document(result)
            outcomes.add("accepted")
        else:
            raise FuzzFailure(f"an explicitly named document was skipped: {result!r}")
    return "accepted" if outcomes == {"accepted"} else "refused"


def check_refusal_reason(reason: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise FuzzFailure(f"refusal without a reason: {reason!r}")
    if "Traceback" in reason or len(reason) > 5_000:
        raise FuzzFailure(f"refusal reason is a dump, not a message ({len(reason)} characters): {reason[:300]!r}")


def check_document(document: Any) -> None:
    """A loaded document is storable and its offsets hold: chunks and image captions slice its text."""

    from quarry.corpus.chunking import chunk_text
    from quarry.corpus.config import ChunkingConfig
    from quarry.corpus.metadata import unstorable_character

    meta = document.metadata
    text = document.text
    problems = []
    if not text.strip():
        problems.append("empty text")
    for name in ("title", "author", "domain", "source"):
        value = getattr(meta, name)
        if not isinstance(value, str) or not value:
            problems.append(f"{name} is {value!r}")
    for value in (text, meta.title, meta.author, meta.domain, meta.source, *meta.access, *meta.tags):
        if unstorable_character(value):
            problems.append(f"unstorable text {value[:40]!r}")
    if meta.published_at.tzinfo is None:
        problems.append("naive published_at")
    meta.published_at.astimezone(UTC)
    if not meta.access or not all(isinstance(group, str) and group for group in meta.access):
        problems.append(f"access {meta.access!r}")
    if document.id != meta.document_id():
        problems.append(f"id {document.id!r} is not the metadata's {meta.document_id()!r}")
    for asset in document.assets:
        if (
            not 0 <= asset.caption_start <= asset.caption_end <= len(text)
            or text[asset.caption_start : asset.caption_end] != asset.caption
        ):
            problems.append(
                f"image {asset.name!r}: caption offsets {asset.caption_start}:{asset.caption_end} miss {asset.caption!r}"
            )
        if asset.width < 1 or asset.height < 1 or not asset.mime.startswith("image/"):
            problems.append(f"image {asset.name!r}: {asset.mime} {asset.width}x{asset.height}")
    for chunk in chunk_text(text, ChunkingConfig(max_tokens=32, overlap_tokens=8)):
        if (
            not 0 <= chunk.start_char < chunk.end_char <= len(text)
            or text[chunk.start_char : chunk.end_char] != chunk.text
        ):
            problems.append(f"chunk {chunk.ordinal} offsets {chunk.start_char}:{chunk.end_char} do not slice the text")
    if len(document.content_hash) != 64:
        problems.append("content hash")
    if problems:
        raise FuzzFailure(f"accepted {document.label} is malformed: " + "; ".join(problems))


def check_metadata(raw: dict) -> Outcome:
    """validate_metadata accepts a typed model or raises MetadataError naming the document and each field."""
    from quarry.corpus.metadata import validate_metadata
    from quarry.errors import MetadataError

    label = "notes/q3.md"
    try:
        validate_metadata(label, {"source": "/corpus/notes/q3.md", **raw}, where="front matter")
    except MetadataError as exc:
        message = str(exc)
        if not message.startswith(f"document '{label}': ") or len(message) > 5_000:
            raise FuzzFailure(f"metadata error does not name the document, or is a dump: {message[:300]!r}") from None
        for problem in exc.problems:
            if problem.field not in message:
                raise FuzzFailure(f"metadata error does not name field {problem.field!r}: {message[:300]!r}") from None
        return "refused"
    return "accepted"


# --- configuration -----------------------------------------------------------------------------


def check_config(text: str, environ: dict[str, str]) -> Outcome:
    """load_settings accepts (every number finite) or raises ConfigError naming the file and key."""
    from quarry.agent.settings import Settings, load_settings
    from quarry.errors import ConfigError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            settings = load_settings(path, environ=environ)
        except ConfigError as exc:
            message = str(exc)
            if "Traceback" in message or len(message) > 20_000:
                raise FuzzFailure(f"config error is a dump: {message[:300]!r}") from None
            if str(path) not in message and not re.search(r"cannot set '[^']*'", message):
                raise FuzzFailure(f"config error names neither the file nor the key: {message[:300]!r}") from None
            return "refused"
    if not isinstance(settings, Settings):
        raise FuzzFailure(f"load_settings returned {type(settings).__name__}")
    for value in _floats(settings):
        if not math.isfinite(value):
            raise FuzzFailure(f"accepted a non-finite number: {value}")
    return "accepted"


def _floats(value: Any) -> Iterator[float]:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _floats(getattr(value, name))
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _floats(inner)
    elif isinstance(value, float):
        yield value


# --- command line ------------------------------------------------------------------------------


class ReachedRealWork(Exception):
    """The CLI accepted its arguments and was about to open the database, load a model or run an eval."""


@contextlib.contextmanager
def cli_tripwires() -> Iterator[None]:
    """Stop every command where its real work would begin, so argv fuzzing stays in-process and fast.
    Everything before (argparse, settings, budget and filter checks, loading files to ingest) runs for real."""
    import quarry.eval.run_qa
    import quarry.eval.run_retrieval
    from quarry.agent.components import Components
    from quarry.corpus.db import Database

    def trip(*args: object, **kwargs: object) -> None:
        raise ReachedRealWork

    saved = [
        (Components, "__init__", Components.__dict__["__init__"]),
        (Database, "open", Database.__dict__["open"]),
        (quarry.eval.run_qa, "run_qa_eval", quarry.eval.run_qa.run_qa_eval),
        (quarry.eval.run_retrieval, "run_retrieval_eval", quarry.eval.run_retrieval.run_retrieval_eval),
        (quarry.eval.run_retrieval, "run_suite", quarry.eval.run_retrieval.run_suite),
    ]
    for owner, name, _ in saved:
        setattr(owner, name, trip)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def prepare_cli_folder(folder: Path) -> None:
    """The working folder argv is fuzzed in: the config files --config may name, a small document."""
    for name, text in CONFIG_FILES.items():
        (folder / name).write_text(text)
    (folder / "a.md").write_text(
        "---\ntitle: A\nauthor: B\ndomain: c\npublished_at: 2024-01-01\naccess: [public]\n---\nText.\n"
    )


_NAMES_THE_PROBLEM = re.compile(
    r"argument [^\s:]+|--[\w-]+|unrecognized arguments|invalid choice|arguments are required|is empty|"
    r"config file '|invalid configuration in"
)


def check_cli(argv: list[str]) -> Outcome:
    """Run `quarry ARGV` in-process (inside cli_tripwires, in a prepared folder): a known exit code, no
    traceback, and a usage error that names the flag, argument or config key at fault."""
    from quarry.agent.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: object = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    except ReachedRealWork:
        code = "reached"
    stderr = err.getvalue()
    if "Traceback" in stderr or "Traceback" in out.getvalue():
        raise FuzzFailure(f"quarry {argv!r} printed a traceback: {stderr[-500:]!r}")
    if code in ("reached", 0):
        return "accepted"
    if code not in (1, 2, 3):
        raise FuzzFailure(f"quarry {argv!r} exited with {code!r}")
    if not _NAMES_THE_PROBLEM.search(stderr):
        raise FuzzFailure(f"quarry {argv!r} exited {code} without naming the flag or key: {stderr[-300:]!r}")
    return "refused"


# --- the benchmark's driver --------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCounts:
    target: str
    tried: int
    accepted: int
    refused: int
    """Rejected with a clear, specific error."""
    crashes: int
    """Any other exception, a traceback, or an accepted result that is not well-formed."""


@dataclass(frozen=True)
class FuzzReport:
    targets: tuple[TargetCounts, ...]
    crash_descriptions: tuple[str, ...]

    @property
    def tried(self) -> int:
        return sum(t.tried for t in self.targets)

    @property
    def crashes(self) -> int:
        return sum(t.crashes for t in self.targets)

    def table(self) -> str:
        rows = [f"{'target':<10} {'tried':>6} {'accepted':>9} {'refused':>8} {'crashes':>8}"]
        rows += [f"{t.target:<10} {t.tried:>6} {t.accepted:>9} {t.refused:>8} {t.crashes:>8}" for t in self.targets]
        rows.append(f"bad inputs tried: {self.tried}, crashes: {self.crashes}")
        return "\n".join(rows + [f"  crash: {description}" for description in self.crash_descriptions])


def _targets() -> list[tuple[str, st.SearchStrategy, Callable[[Any], Outcome]]]:
    return [
        ("documents", document_files, check_document_file),
        ("metadata", metadata(), check_metadata),
        ("config", st.tuples(config_documents(), environments()), lambda pair: check_config(*pair)),
        ("cli", argvs(), check_cli),
    ]


def run_fuzz(examples: int = 200, *, seed: int = 0) -> FuzzReport:
    """Try `examples` generated inputs per target (no database) and count what each did; prints nothing."""
    counts, crashes = [], []
    with tempfile.TemporaryDirectory() as tmp, _isolated_cli(Path(tmp)):
        for name, strategy, check in _targets():
            tally = {"accepted": 0, "refused": 0, "crashes": 0}
            _drive(strategy, _collector(name, check, tally, crashes), examples, seed)
            counts.append(
                TargetCounts(name, sum(tally.values()), tally["accepted"], tally["refused"], tally["crashes"])
            )
    return FuzzReport(tuple(counts), tuple(crashes))


def _collector(
    name: str, check: Callable[[Any], Outcome], tally: dict[str, int], crashes: list[str]
) -> Callable[[Any], None]:
    def collect(example: Any) -> None:
        try:
            tally[check(example)] += 1
        except Exception as exc:  # counting every failure, whatever it is, is the point
            tally["crashes"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            crashes.append(
                f"{name}: {type(exc).__name__}: {str(exc)[:200]} "
                f"(at {Path(where.filename).name}:{where.lineno}; input {example!r:.200})"
            )

    return collect


def _drive(strategy: st.SearchStrategy, collect: Callable[[Any], None], examples: int, seed: int) -> None:
    """Feed `examples` inputs from `strategy` to `collect` (which never raises, so nothing shrinks)."""

    @hypothesis_seed(seed)
    @hypothesis_settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(example: Any) -> None:
        collect(example)

    run()


@contextlib.contextmanager
def _isolated_cli(folder: Path) -> Iterator[None]:
    """The CLI target's world: a prepared working folder, no QUARRY_* variables but QUARRY_CONFIG, tripwires."""
    prepare_cli_folder(folder)
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("QUARRY_")}
    cwd = Path.cwd()
    for name in saved_env:
        del os.environ[name]
    os.environ["QUARRY_CONFIG"] = str(folder / "good.yaml")
    os.chdir(folder)
    try:
        with cli_tripwires():
            yield
    finally:
        os.chdir(cwd)
        os.environ.pop("QUARRY_CONFIG", None)
        os.environ.update(saved_env)


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fuzz_inputs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="inputs per target (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = run_fuzz(args.examples, seed=args.seed)
    print(report.table())
    return 1 if report.crashes else 0


if __name__ == "__main__":
    sys.exit(_main())
