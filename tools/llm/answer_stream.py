"""The ANSWER section of a synthesis reply while it is being written (token streaming).

Fed the reply piece by piece, `AnswerStream.feed` returns the answer text that has become safe to show:
nothing before the ANSWER label, nothing from the next section label on, and a trailing partial line
that could still turn into a label ("GA", "**ANSW") held back until it cannot. What it shows is the
model's unverified draft; the verified answer comes from `parse_synthesis` and the citation checks."""

import re

from quarry.tools.llm.prompts import SECTION_LABEL

_MAYBE_LABEL = re.compile(
    r"[ \t]*(?:#{1,6}[ \t]*)?[*_]{0,2}[ \t]*(?:G(?:A(?:P(?:S[ \t*_]*)?)?)?|A(?:N(?:S(?:W(?:E(?:R[ \t*_]*)?)?)?)?)?)?",
    re.IGNORECASE,
)


class AnswerStream:
    def __init__(self) -> None:
        self._reply = ""
        self._shown = 0
        self._closed = False

    def feed(self, piece: str) -> str:
        """The answer text `piece` completes, "" when none (yet, or any more)."""
        if self._closed:
            return ""
        self._reply += piece
        visible = self._visible()
        new = visible[self._shown :]
        self._shown = max(self._shown, len(visible))
        return new

    def _visible(self) -> str:
        labels = list(SECTION_LABEL.finditer(self._reply))
        opening = next((m for m in labels if m.group(1).upper() == "ANSWER"), None)
        if opening is None:
            return ""
        following = next((m for m in labels if m.start() >= opening.end()), None)
        if following is not None:
            self._closed = True
            return self._reply[opening.end() : following.start()].lstrip()
        body = self._reply[opening.end() :].lstrip()
        last_line = body[body.rfind("\n") + 1 :]
        return body[: len(body) - len(last_line)] if _MAYBE_LABEL.fullmatch(last_line) else body
