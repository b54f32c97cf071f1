"""One chat turn in a process of its own, sharing only the database with its parent:
`python -m tests.support.session_child SESSION_ID PRINCIPAL GROUPS QUESTION [--pause]` (settings from
the QUARRY_* environment). With --pause the turn stops at its first query embedding, after the
engine has read (or held) the session's budget and before anything is researched: it prints
PAUSED and waits for a line on stdin, so a second process's whole turn lands exactly there. Last
it prints the answer as one JSON line (hops, stopped_by, run_id)."""

import json
import os
import sys
from pathlib import Path

from quarry.agent.assistant import Assistant
from quarry.agent.settings import load_settings
from quarry.corpus.embed import LocalEmbeddings
from quarry.corpus.filters import Principal
from tests.support.fault_hooks import FaultOnSearch

PAUSED = "paused before research"


def _wait_for_the_parent() -> None:
    print(PAUSED, flush=True)
    sys.stdin.readline()


def main(session_id: str, principal: str, groups: str, question: str, *flags: str) -> int:
    environ = {k: v for k, v in os.environ.items() if k.startswith("QUARRY_")}
    settings = load_settings(Path(os.devnull), environ=environ)
    embedder = FaultOnSearch(LocalEmbeddings(settings.embedding))
    if "--pause" in flags:
        embedder.arm(_wait_for_the_parent)
    with Assistant(settings, environ={}, embedder=embedder) as assistant:  # type: ignore[arg-type]
        session = assistant.chat(
            principal=Principal(id=principal, groups=tuple(groups.split(","))), session_id=session_id
        )
        answer = session.ask(question, use_cache=False)
    print(json.dumps({"hops": answer.hops, "stopped_by": answer.stopped_by, "run_id": answer.run_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
