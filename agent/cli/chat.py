"""`quarry chat`: an interactive research session. Follow-ups are resolved against the conversation,
every turn runs within its own budget and the session's, and the session is saved as it goes
(resume it with --session ID). On a terminal a live status line shows the current node, hop and
what is left; without one (pipes, CI) progress is plain lines on stderr with no control codes."""

import argparse
import sys
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import add_budget_arguments, add_filter_arguments, filters_from, limits_from
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings

PROMPT = "you> "
HELP = """\
Type a question, or a follow-up to the last answer ("and who leads it?"). Commands:
  /budget   what this turn and the whole session may still spend
  /sources  the last answer's citations
  /open N   citation N in its document, with context
  /history  the questions asked so far (as researched)
  /new      start a new session (same reader and budgets)
  /help     this text
  /quit     leave (the session is saved; resume with quarry chat --session ID)"""


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "chat",
        help="an interactive research session with follow-ups and a session budget",
        description=__doc__.split("\n\n")[0].replace("`quarry chat`: ", "").capitalize(),
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--session", metavar="ID", help="resume this session (its id is printed when it starts)")
    parser.add_argument(
        "--principal",
        metavar="ID",
        help="who is asking (default: cli); --session resumes only with the principal and --groups that started it",
    )
    add_budget_arguments(parser, title="budget (per turn)")
    add_budget_arguments(parser, title="budget (whole session)", prefix="session-")
    add_filter_arguments(parser)
    parser.add_argument(
        "--no-cache", action="store_true", help="research every turn afresh: do not serve or store a cached answer"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.assistant import Assistant
    from quarry.agent.cli.chat_screen import ChatScreen
    from quarry.corpus.filters import Principal

    per_turn = limits_from(args, settings.research.budget)
    session_budget = limits_from(args, settings.research.session_budget, prefix="session-")
    filters = filters_from(args)
    resuming = args.session is not None
    principal = Principal(id=args.principal or "cli", groups=args.groups)
    with Assistant(settings) as assistant:
        session = assistant.chat(
            principal=principal, budget=per_turn, session_budget=session_budget, session_id=args.session
        )
        screen = ChatScreen(assistant, session, filters, use_cache=not args.no_cache)
        screen.welcome(resumed=resuming)
        screen.prepare()
        while True:
            try:
                line = _read_line().strip()
            except EOFError:
                break
            except KeyboardInterrupt:
                print(file=sys.stderr)
                break
            if not line:
                continue
            if line.startswith("/"):
                if not screen.command(line):
                    break
                continue
            screen.ask(line)  # Ctrl-C here cancels this answer only (ChatScreen)
        screen.goodbye()
    return ExitCode.OK


def _read_line() -> str:
    """The next line; the prompt only for a person typing, and never into piped stdout."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line
    if sys.stdout.isatty():
        return input(PROMPT)
    print(PROMPT, end="", file=sys.stderr, flush=True)
    return input()
