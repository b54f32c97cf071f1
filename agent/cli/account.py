"""`quarry account`: shared budget accounts, whose caps hold across every run and worker charging them."""

import argparse
import json
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import non_negative_float, positive_int
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "account",
        help="shared budget accounts: set a cap, show spend, reset a period",
        description="An account caps tokens and dollars across every run that charges it, in any process: each "
        "model call holds its worst case on the account in PostgreSQL before it is made. Runs charge the account "
        "named by research.account (QUARRY_RESEARCH__ACCOUNT); a run the account cannot fund stops, partial, "
        "with stopped_by=account.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    set_cap = actions.add_parser("set", help="create an account or change its caps (spend so far is kept)")
    set_cap.add_argument("name", help="account name")
    set_cap.add_argument("--max-usd", type=non_negative_float, required=True, metavar="USD", help="dollar cap")
    set_cap.add_argument(
        "--max-tokens", type=positive_int, default=10**12, metavar="N", help="token cap (default: none)"
    )
    show = actions.add_parser("show", help="caps, spend, open holds and what is left")
    show.add_argument("names", nargs="*", metavar="NAME", help="accounts to show (default: all)")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    reset = actions.add_parser("reset", help="zero an account's spend (a new billing period)")
    reset.add_argument("name", help="account name")
    parser.set_defaults(run=run, error_prefix="quarry account")


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.components import Components
    from quarry.graph.budget.account import Accounts

    with Components(settings) as components:
        accounts = Accounts(components.db)
        if args.action == "set":
            states = [accounts.set(args.name, max_usd=args.max_usd, max_tokens=args.max_tokens)]
        elif args.action == "reset":
            states = [accounts.reset(args.name)]
        else:
            states = [accounts.state(name) for name in args.names] if args.names else accounts.states()
    if getattr(args, "json", False):
        print(json.dumps([{**vars(s), "left_usd": s.left_usd, "left_tokens": s.left_tokens} for s in states], indent=2))
        return ExitCode.OK
    if not states:
        print("no accounts (create one with: quarry account set NAME --max-usd N)")
    for s in states:
        print(
            f"{s.id}: spent ${s.spent_usd:.4f} of ${s.max_usd:.2f} and {s.spent_tokens:,} of {s.max_tokens:,} tokens; "
            f"{s.open_holds} open hold(s) (${s.held_usd:.4f}); left ${s.left_usd:.4f} / {s.left_tokens:,} tokens"
        )
    return ExitCode.OK
