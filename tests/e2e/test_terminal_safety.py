"""A hostile document cannot drive the terminal: escape sequences in its text, title, author and file
name, and in a principal's name, reach no command's stdout or stderr as control bytes (they are shown
as `\\x1b` …), and rich markup in a title is printed as written."""

import io
import json
import re
import uuid
from pathlib import Path

import pytest

from quarry.agent.cli.main import main
from quarry.agent.cli.terminal import SafeConsole, safe_text

pytestmark = pytest.mark.integration

ESC, OSC52 = "\x1b", "\x1b]52;c;cm0gLXJmIH4=\x07"  # OSC 52: write 'rm -rf ~' to the clipboard
HOSTILE = {
    "text": f"The Kittiwake is CONDEMNED.{ESC}[1A{ESC}[2K\rThe Kittiwake is safe to sail. {OSC52}"
    f"\x9b2J Harbour master Ines Duarte inspected the Kittiwake in March 2024.\x07\x08\x7f",
    "metadata": {
        "title": f"Kittiwake inspection{ESC}[2K\r SAFE {OSC52} [link=https://evil.example]open[/link]",
        "author": f"Ines Duarte{ESC}[31m",
        "domain": "safety",
        "published_at": "2024-03-12T09:00:00Z",
        "access": ["public"],
    },
}
PRINCIPAL = f"eve{ESC}]0;pwned\x07"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
QUESTION = "Is the Kittiwake safe to sail?"


@pytest.fixture(scope="module")
def corpus(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("hostile")
    docs = home / "docs"
    docs.mkdir()
    (docs / f"report{ESC}]0;title\x07.jsonl").write_text(json.dumps(HOSTILE) + "\n")
    return {
        "QUARRY_DATABASE_URL": pg_url,
        "QUARRY_DATABASE__SCHEMA_NAME": f"tty_{uuid.uuid4().hex[:10]}",
        "QUARRY_DATA_DIR": str(home / "data"),
        "docs": str(docs),
    }


def _quarry(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], env: dict[str, str], *argv: str, stdin: str = ""
) -> str:
    for name, value in env.items():
        if name.startswith("QUARRY_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("QUARRY_PROVIDER", "offline")
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capfd.readouterr()
    assert code in (0, 1), err
    for name, stream in (("stdout", out), ("stderr", err)):
        bad = CONTROL.search(stream)
        assert bad is None, f"quarry {argv[0]}: {bad.group()!r} on {name}: {stream[max(0, bad.start() - 60) :][:120]!r}"
    return out + err


@pytest.mark.slow  # eight commands in one process, each loading the embedding model (~30 s)
def test_no_command_passes_a_control_character_from_the_data(
    corpus: dict[str, str], monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
):
    shown = _quarry(monkeypatch, capfd, corpus, "ingest", corpus["docs"])
    assert "report\\x1b]0;title\\x07.jsonl" in shown

    shown = _quarry(monkeypatch, capfd, corpus, "search", "Kittiwake safe to sail")
    assert "Kittiwake inspection\\x1b[2K\\x0d SAFE \\x1b]52;c;cm0gLXJmIH4=\\x07" in shown and "\\x9b2J" in shown

    shown = _quarry(monkeypatch, capfd, corpus, "ask", QUESTION, "--principal", PRINCIPAL, "--no-cache")
    assert "\\x1b]52;c;" in shown and "[link=https://evil.example]open[/link]" in shown
    run_id = re.search(r"run ([0-9a-f-]{36})", shown)
    assert run_id is not None

    shown = _quarry(
        monkeypatch, capfd, corpus, "chat", "--no-cache", stdin=f"{QUESTION}\n/sources\n/open 1\n/history\n/quit\n"
    )
    assert "\\x1b[1A\\x1b[2K" in shown

    shown = _quarry(monkeypatch, capfd, corpus, "runs")
    assert "eve\\x1b]0;pwned\\x07" in shown
    shown = _quarry(monkeypatch, capfd, corpus, "runs", run_id.group(1), "--hits", "5")
    assert "\\x1b]52;c;" in shown
    shown = _quarry(monkeypatch, capfd, corpus, "spend", "--by", "principal")
    assert "eve\\x1b]0;pwned\\x07" in shown


def test_on_a_terminal_only_the_consoles_own_styles_are_escape_codes():
    from rich.table import Table

    written = io.StringIO()
    console = SafeConsole(file=written, force_terminal=True, color_system="truecolor", width=100)
    table = Table(title="runs")
    table.add_column("question")
    table.add_row(HOSTILE["metadata"]["title"])
    console.print(table)
    console.print(HOSTILE["text"], style="bold")
    codes = set(re.findall(r"\x1b[^A-Za-z]*[A-Za-z]?", written.getvalue()))
    assert codes and all(re.fullmatch(r"\x1b\[[0-9;]*m", code) for code in codes), codes
    assert "[link=https://evil.example]open[/link]" in written.getvalue()
    assert CONTROL.search(written.getvalue().replace("\x1b[", "")) is None


def test_safe_text_keeps_layout_and_is_idempotent():
    assert safe_text("a\tb\r\nc\n") == "a\tb\nc\n"
    once = safe_text(HOSTILE["text"])
    assert CONTROL.search(once) is None and safe_text(once) == once


def test_every_rich_console_is_the_safe_one():
    """`print` goes through the guarded streams; a rich console writes beneath them, so it must be SafeConsole."""
    root = Path(__file__).resolve().parents[2]
    builders = [
        path.relative_to(root).as_posix()
        for folder in ("agent", "eval", "graph", "tools", "corpus")
        for path in (root / folder).rglob("*.py")
        if re.search(r"(?<!Safe)Console\(", path.read_text())
    ]
    assert builders == []
