"""Hypothesis strategies for bad input: what a user could write in a document, a sidecar, a JSONL
record, config.yaml, a QUARRY_* variable or on the command line. Shared by tests/support/fuzz_inputs.py (the
benchmark's crash count) and tests/fuzz (the same inputs as properties)."""

import base64
import io
import json
from dataclasses import dataclass

import yaml
from hypothesis import strategies as st
from PIL import Image

NASTY_STRINGS = (
    "",
    " ",
    "\t",
    "\n",
    "\r\n",
    "-",
    "--",
    "-1",
    "0",
    "-0",
    "1",
    "3",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "1e-999",
    "1e300",
    "9" * 400,
    "1_000",
    "٣",
    "²",
    "０",
    "null",
    "~",
    "true",
    "None",
    "[]",
    "{}",
    "2024-13-45",
    "2024-02-30",
    "2024-01-01",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00Z",
    "2023-06-01T12:00:00+02:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-23:59",
    "30m",
    "24h",
    "7d",
    "0d",
    "99999999999d",
    "²h",
    "x" * 3000,
    "é",
    "日本語",
    "🦀",
    "\u200b",
    "\u202e",
    "a\x00b",
    "\ud800",
    "\udcff",
    "---",
    "<|endoftext|>",
    "'",
    '"',
    "\\",
    "%s",
    "{0}",
    "C:\\x",
    "public",
    "pub lic",
    "public,leadership",
    ",",
    "~nosuchuser/quarry",
    "claude",
    "offline",
    "s3",
)
"""Values that have broken parsers before: numbers argparse or YAML misread, dates out of range,
text PostgreSQL cannot store (NUL, lone surrogates), and very long strings."""

nasty_text = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=30))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from((10**30, -(10**30), 2**63)), st.floats(), nasty_text
)
json_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=8,
)


# --- documents ---------------------------------------------------------------------------------

METADATA_FIELDS = ("id", "source", "title", "author", "domain", "published_at", "access", "tags", "language")
GOOD_METADATA = {
    "title": "Ledgerline settlement service",
    "author": "Priya Raman",
    "domain": "engineering",
    "published_at": "2024-03-12T09:00:00Z",
    "access": ["public"],
    "tags": ["payments"],
    "language": "en",
}
_FIELD_VALUES = {
    "published_at": st.sampled_from(
        (
            "2024-03-12T09:00:00Z",
            "2024-03-12",
            "2024-03-12T09:00:00",
            "2024-13-45",
            "2024-02-30",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-23:59",
            "yesterday",
            "",
            0,
            -1,
            10**30,
            1.5e300,
            float("nan"),
            float("inf"),
            None,
            [],
            {},
        )
    ),
    "access": st.one_of(
        st.lists(
            st.sampled_from(("public", "engineering", "pub lic", "", "x" * 70, "a\x00", "\ud800", "a,b")), max_size=3
        ),
        st.sampled_from(("public", "public, leadership", "", " , ", None, 1, {"a": 1})),
    ),
    "tags": st.one_of(st.lists(nasty_text, max_size=3), nasty_text, st.just([[1]])),
    "language": st.sampled_from(("en", "en-GB", "EN", "english", "", None, 5)),
    "id": st.one_of(nasty_text, st.sampled_from(("fixed-id", "x" * 201))),
}


@st.composite
def metadata(draw: st.DrawFn) -> dict:
    """A metadata mapping: mostly good fields, some replaced, dropped or joined by unknown ones."""
    meta = dict(GOOD_METADATA)
    for field in draw(
        st.lists(st.sampled_from(METADATA_FIELDS), max_size=draw(st.sampled_from((0, 0, 0, 0, 1, 2, 4))))
    ):
        if draw(st.integers(0, 3)):
            meta[field] = draw(_FIELD_VALUES.get(field, st.one_of(nasty_text, json_like)))
        else:
            meta.pop(field, None)
    if draw(st.integers(0, 9)) == 0:
        meta[draw(st.one_of(nasty_text, st.sampled_from(("titel", "caption"))))] = draw(json_like)
    return meta


_RAW_YAML_VALUES = (
    "2024-13-45",
    "2024-02-30 10:00:00",
    "2024-01-01 10:00:00 +99",
    "!!int abc",
    "!!int",
    "!!timestamp soon",
    "!!bool maybe",
    "!!float x",
    "!!binary '%%%'",
    "!!python/object/apply:os.system [echo]",
    "!!set {a, b}",
    "&a [*a]",
    "*missing",
    "[",
    "{",
    "'unterminated",
    '"\\0"',
    '"\\ud800"',
    '"a\\x01"',
    ".nan",
    ".inf",
    "-.inf",
    "0x" + "f" * 5000,
    "9" * 5000,
    "[" * 600 + "]" * 600,
    "~",
    "",
    "|\n  block",
    "@reserved",
    "`tick",
    "[public, ]",
    "public, leadership",
    "{a: 1}",
    "\x01",
)
_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n" for a, b in zip("abcdefg", "bcdefgh")
)
"""A billion-laughs document: nine-fold aliases seven deep (48 million leaves if expanded)."""


@st.composite
def yaml_mapping_text(draw: st.DrawFn, mapping: dict) -> str:
    """`mapping` as YAML text: dumped, written line by line with raw (often broken) values, or junk."""
    mode = draw(st.sampled_from(("dump",) * 7 + ("lines", "laughs", "junk")))
    if mode == "dump":
        return yaml.safe_dump(mapping, allow_unicode=draw(st.booleans()), sort_keys=False)
    if mode == "junk":
        return draw(
            st.lists(st.sampled_from((*_RAW_YAML_VALUES, ": ", "\n", "- ", "  ", "title")), max_size=8).map("".join)
        )
    lines = []
    for key, value in mapping.items():
        raw = draw(st.one_of(st.just(json.dumps(value, default=str)), st.sampled_from(_RAW_YAML_VALUES)))
        lines.append(f"{key}: {raw}")
    if mode == "laughs":
        field = draw(st.sampled_from(METADATA_FIELDS))
        lines = [line for line in lines if not line.startswith(f"{field}:")] + [_LAUGHS + f"{field}: *h"]
    return "\n".join(lines) + "\n"


def _image_bytes(kind: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, kind)
    return buffer.getvalue()


GOOD_PNG = _image_bytes("PNG")
IMAGE_FILES = {
    "good.png": GOOD_PNG,
    "photo.jpg": _image_bytes("JPEG"),
    "truncated.png": GOOD_PNG[: len(GOOD_PNG) // 2],
    "corrupt.png": GOOD_PNG[:16] + b"\x00" * 40,
    "empty.png": b"",
    "drawing.png": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    "notes.png": b"just text",
}
"""The images beside every fuzzed document, for its references to pick from."""
_GOOD_B64 = base64.b64encode(GOOD_PNG).decode()
_BODY_PIECES = (
    "Ledgerline settles carrier invoices every night.",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "# Heading",
    "---",
    "\n---\n",
    "![Settlement flow](good.png)",
    "![](good.png)",
    '![  spaced  ](good.png "a title")',
    "![x](<good.png>)",
    "![a photo](photo.jpg)",
    "![x](missing.png)",
    "![x](corrupt.png)",
    "![x](truncated.png)",
    "![x](empty.png)",
    "![x](drawing.png)",
    "![x](notes.png)",
    "![x](folder.png)",
    f"![inline](data:image/png;base64,{_GOOD_B64})",
    "![x](data:image/png;base64,!!!)",
    "![x](data:text/plain;base64,aGk=)",
    "![x](https://example.com/a.png)",
    "![x](/dev/null)",
    "![x](/dev/zero)",
    "![x](../outside.png)",
    "![x](good.png",
    "![x]()",
    "日本語の文です。",
    "<|endoftext|>",
    "A. B! C? D",
    "word " * 60,
    "x" * 300,
    "\t",
    "\u2028",
    "\x0c",
)
_SENTENCES = (
    "Ledgerline settles carrier invoices every night. ",
    "It is owned by Payments Core.\n\n",
    "Beacon carries events. ",
    "![Settlement flow](good.png) ",
    "日本語の文です。",
    "\n",
)
bodies = st.lists(
    st.one_of(
        st.sampled_from(_SENTENCES), st.sampled_from(_SENTENCES), st.sampled_from(_BODY_PIECES), st.text(max_size=20)
    ),
    min_size=1,
    max_size=10,
).map("".join)


@dataclass(frozen=True)
class FileSet:
    """One fuzzed document's files, named relative to a fresh folder holding IMAGE_FILES and a folder.png/."""

    files: dict[str, bytes]
    target: str
    """The file the loader is pointed at."""


def _mutated(data: bytes, draw: st.DrawFn) -> bytes:
    """Sometimes break the encoding: an invalid UTF-8 byte, a NUL, or a byte-order mark."""
    mutation = draw(st.sampled_from(("none",) * 8 + ("invalid", "nul", "bom")))
    at = draw(st.integers(0, len(data)))
    return {
        "none": data,
        "invalid": data[:at] + b"\xff" + data[at:],
        "nul": data[:at] + b"\x00" + data[at:],
        "bom": b"\xef\xbb\xbf" + data,
    }[mutation]


@st.composite
def markdown_files(draw: st.DrawFn) -> FileSet:
    """A Markdown or text document with front matter, a sidecar, both or neither, and images."""
    name = "doc" + draw(st.sampled_from((".md", ".md", ".markdown", ".txt", ".MD")))
    front = draw(yaml_mapping_text(draw(metadata())))
    opener = draw(st.sampled_from(("---\n",) * 6 + ("---\r\n", "--- \n", "---", "----\n", "")))
    closer = draw(st.sampled_from(("\n---\n",) * 6 + ("\n---\r\n", "\n---", "\n--- x\n", "\n...\n", "")))
    where = draw(st.sampled_from(("front",) * 5 + ("sidecar",) * 3 + ("both", "none")))
    text = (opener + front + closer if where in ("front", "both") else "") + draw(bodies)
    files = {name: _mutated(text.encode("utf-8", "surrogatepass"), draw)}
    if where in ("sidecar", "both"):
        files[name + ".meta.yaml"] = _mutated(
            draw(yaml_mapping_text(draw(metadata()))).encode("utf-8", "surrogatepass"), draw
        )
    return FileSet(files, name)


@st.composite
def image_files(draw: st.DrawFn) -> FileSet:
    """An image document: the image and (usually) its sidecar with metadata and a caption."""
    name = draw(st.sampled_from(sorted(IMAGE_FILES)))
    files = {name: IMAGE_FILES[name]}
    if draw(st.integers(0, 5)):
        meta = draw(metadata())
        if draw(st.booleans()):
            meta["caption"] = draw(st.one_of(nasty_text, json_like))
        files[name + ".meta.yaml"] = _mutated(draw(yaml_mapping_text(meta)).encode("utf-8", "surrogatepass"), draw)
    return FileSet(files, name)


_RAW_JSONL_LINES = (
    "not json",
    "[" * 5000,
    "1" * 5000,
    '"\\ud800"',
    "NaN",
    "{}",
    "[]",
    "null",
    '{"text": "x"',
    "{'text': 'x'}",
    '{"text": "a\\u0000b", "metadata": {}}',
    "  ",
    "",
)


@st.composite
def jsonl_records(draw: st.DrawFn) -> dict:
    record: dict = {}
    if draw(st.integers(0, 9)):
        record["text"] = draw(st.one_of(bodies, bodies, bodies, nasty_text, json_like))
    if draw(st.integers(0, 9)):
        record["metadata"] = draw(st.one_of(*[metadata()] * 5, json_like))
    if draw(st.integers(0, 2)) == 0:
        image = st.one_of(
            st.fixed_dictionaries(
                {
                    "path": st.one_of(
                        st.sampled_from(
                            [*sorted(IMAGE_FILES), "missing.png", "folder.png", "/dev/zero", "a\x00b.png", ""]
                        ),
                        json_like,
                    )
                },
                optional={"alt": st.one_of(nasty_text, json_like)},
            ),
            st.fixed_dictionaries(
                {"data": st.one_of(st.just(_GOOD_B64), nasty_text, json_like)},
                optional={"alt": nasty_text, "mime": nasty_text},
            ),
            json_like,
        )
        record["images"] = draw(st.one_of(st.lists(image, max_size=3), json_like))
    if draw(st.integers(0, 8)) == 0:
        record[draw(nasty_text)] = draw(json_like)
    return record


@st.composite
def jsonl_files(draw: st.DrawFn) -> FileSet:
    """A JSONL file of a few records, some of them junk lines."""
    line = st.one_of(*[jsonl_records().map(json.dumps)] * 4, st.sampled_from(_RAW_JSONL_LINES))
    lines = draw(st.lists(line, min_size=1, max_size=4))
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + draw(st.sampled_from((b"\n", b"", b"\r\n")))
    return FileSet({"records.jsonl": _mutated(data, draw)}, "records.jsonl")


document_files = st.one_of(markdown_files(), markdown_files(), image_files(), jsonl_files())


# --- configuration -----------------------------------------------------------------------------


def config_keys() -> list[str]:
    """Every dotted key Settings accepts (sections, their keys, nested sections' keys)."""
    from pydantic import BaseModel

    from quarry.agent.settings import Settings

    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            keys.append(prefix + name)
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation, f"{prefix}{name}.")

    walk(Settings, "")
    return keys


_CONFIG_VALUES = st.one_of(
    st.integers(0, 1000),
    st.floats(0, 100),
    st.booleans(),
    st.sampled_from(("offline", "claude", "cpu", "local", "x" * 300)),
    json_like,
    st.sampled_from((10**400, 1e308, -1, 0, 0.0, float("nan"), float("inf"), -1e-300)),
)


@st.composite
def config_documents(draw: st.DrawFn) -> str:
    """config.yaml text: known keys set to odd values, unknown keys, whole sections replaced by junk."""
    keys = config_keys()
    data: dict = {}
    for _ in range(draw(st.sampled_from((0, 0, 1, 1, 2, 5)))):
        dotted = draw(st.one_of(st.sampled_from(keys), st.sampled_from(keys), st.sampled_from(keys), nasty_text))
        value = draw(_CONFIG_VALUES)
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    mode = draw(st.sampled_from(("dump", "dump", "lines", "laughs", "junk")))
    if mode == "dump":
        return yaml.safe_dump(data, allow_unicode=draw(st.booleans()))
    if mode == "lines":
        return "".join(
            f"{section}:\n  {draw(nasty_text).strip() or 'key'}: {draw(st.sampled_from(_RAW_YAML_VALUES))}\n"
            for section in data or {"chunking": None}
        )
    if mode == "laughs":
        return _LAUGHS + draw(
            st.sampled_from(("entities:\n  gazetteer: *h\n", "telemetry:\n  headers: *h\n", "llm: *h\n"))
        )
    return draw(yaml_mapping_text(data))


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    """QUARRY_* variables: known keys as SECTION__KEY, the short aliases, and malformed names."""
    names = st.one_of(
        st.sampled_from([key.upper().replace(".", "__") for key in config_keys()]).map("QUARRY_".__add__),
        st.sampled_from(
            (
                "QUARRY_DATA_DIR",
                "QUARRY_DATABASE_URL",
                "QUARRY___X",
                "QUARRY_X__",
                "QUARRY_A__B__C__D",
                "QUARRY_CONFIG",
                "QUARRY_CHUNKING__",
                "OTHER__VAR",
            )
        ),
        nasty_text.map(lambda name: "QUARRY_" + name.replace("\x00", "")),
    )
    values = nasty_text.map(lambda value: value.replace("\x00", ""))  # the OS never passes a NUL in a variable
    return draw(st.dictionaries(names, values, max_size=draw(st.sampled_from((0, 0, 0, 1, 2, 4)))))


# --- command line ------------------------------------------------------------------------------

_BUDGET = ("--max-usd", "--max-seconds", "--max-hops", "--max-tokens")
_FILTERS = ("--domain", "--author", "--tag", "--after", "--before", "--groups")
COMMANDS: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {
    # command: (positional arguments, flags)
    ("ingest",): (("PATH",), ("--author", "--domain", "--access", "--tags", "--language", "--published-at", "--quiet")),
    ("search",): (("TEXT",), ("--k", "--mode", "--no-rerank", "--json", *_FILTERS)),
    ("ask",): (("TEXT",), (*_BUDGET, *_FILTERS, "--principal", "--no-cache", "--json", "--quiet")),
    ("chat",): (
        (),
        ("--session", "--principal", *_BUDGET, *(f.replace("--", "--session-") for f in _BUDGET), *_FILTERS),
    ),
    ("runs",): (("TEXT?",), ("--limit", "--principal", "--hits", "--json")),
    ("spend",): ((), ("--by", "--since", "--json")),
    ("cache", "stats"): ((), ("--json",)),
    ("cache", "clear"): ((), ("--stale",)),
    ("gc",): ((), ("--grace", "--dry-run")),
    ("doctor",): ((), ("--skip-model",)),
    ("eval", "retrieval"): (
        ("PATH",),
        ("--limit", "--out", "--corpus", "--max-documents", "--no-peer", "--folds", "--seed"),
    ),
    ("eval", "qa"): (
        ("PATH",),
        (
            "--limit",
            "--concurrency",
            *_BUDGET,
            "--out",
            "--resume",
            "--corpus",
            "--documents",
            "--max-documents",
            "--no-cache",
            "--quiet",
        ),
    ),
}
CONFIG_FILES = {
    "good.yaml": "chunking:\n  max_tokens: 200\n",
    "typo.yaml": "chunking:\n  max_tokns: 3\n",
    "broken.yaml": "chunking: [\n",
    "dates.yaml": "research:\n  budget:\n    max_seconds: 2024-13-45\n",
}
"""Config files written in the fuzzed CLI's working folder, for --config to name."""
_PATHS = (
    "a.md",
    "missing.md",
    ".",
    "docs",
    "x.jsonl",
    "good.yaml",
    "",
    "-",
    "x" * 300,
    "日本.md",
    "\udcff.md",
    "a\x00b",
)


def _safe_path(text: str) -> str:
    """No absolute or parent paths: an argument mistaken for a path must not walk the real file system."""
    return text.replace("/", "_").replace("..", "_.").replace("\\", "_")


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    """A `quarry` command line: a command (or junk), its positionals, flags with odd values, unknown flags."""
    command = draw(st.sampled_from(sorted(COMMANDS)))
    positionals, flags = COMMANDS[command]
    argv: list[str] = []
    if draw(st.integers(0, 6)) == 0:
        argv += ["--config", draw(st.sampled_from((*CONFIG_FILES, "missing.yaml", "", ".")))]
    argv += list(command) if draw(st.integers(0, 15)) else [draw(nasty_text)]
    for kind in positionals:
        if kind == "PATH":
            argv += draw(
                st.lists(st.one_of(st.sampled_from(_PATHS), nasty_text).map(_safe_path), min_size=1, max_size=3)
            )
        elif kind == "TEXT" or draw(st.booleans()):
            argv.append(draw(nasty_text))
    for _ in range(draw(st.integers(0, 4))):
        flag = draw(
            st.one_of(
                st.sampled_from(flags or ("--json",)),
                st.sampled_from(flags or ("--json",)),
                nasty_text.map("--".__add__),
                st.sampled_from(("-h", "--max", "-x")),
            )
        )
        argv.append(flag)
        if draw(st.integers(0, 4)):
            argv.append(draw(nasty_text))
    if draw(st.integers(0, 4)) == 0:
        argv = draw(st.permutations(argv))
    return [_safe_path(arg) if not arg.startswith("-") else arg for arg in argv] if "ingest" in argv else argv
