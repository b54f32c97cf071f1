"""`quarry keys create|list|revoke`: the HTTP service's API keys. A key acts for one principal with
fixed access groups (and optionally a budget account); only its hash is stored."""

import argparse
import json
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import group_list
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "keys",
        help="API keys for quarry serve: create, list, revoke",
        description="Over HTTP a caller's principal, access groups and budget account come only from its API key "
        "(Authorization: Bearer <key>); a request cannot widen them. The key is printed once, at creation; only "
        "its SHA-256 is stored.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="make a key (printed once)")
    create.add_argument("--principal", required=True, metavar="ID", help="who the key acts for (ledger, sessions)")
    create.add_argument(
        "--groups",
        required=True,
        type=group_list,
        metavar="GROUPS",
        help="access groups it reads with, comma-separated",
    )
    create.add_argument("--account", metavar="NAME", help="a budget account its runs charge (quarry account set)")
    create.add_argument("--note", default="", help="what the key is for")
    create.add_argument("--json", action="store_true", help='print {"key", "principal", "groups", ...}')
    listing = actions.add_parser("list", help="live keys (prefix, principal, groups, last use)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix (as `keys list` shows it)")
    revoke.add_argument("prefix", metavar="PREFIX", help="the key's prefix (qk_…) or id")
    parser.set_defaults(run=run, error_prefix="quarry keys")


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.service.keys import ApiKeyStore
    from quarry.corpus.db import Database
    from quarry.graph.budget.account import Accounts

    with Database.open(settings.database, settings.embedding, settings.data_dir) as db:
        store = ApiKeyStore(db)
        if args.action == "create":
            if args.account is not None:
                Accounts(db).state(args.account)  # AccountNotFound names `quarry account set`
            issued = store.create(args.principal, args.groups, account=args.account, note=args.note)
            record = issued.record
            if args.json:
                print(
                    json.dumps(
                        {
                            "key": issued.key,
                            "principal": record.principal.id,
                            "groups": list(record.principal.groups),
                            "account": record.account,
                            "prefix": record.prefix,
                        },
                        indent=2,
                    )
                )
            else:
                print(issued.key)
                print(
                    f"(key {record.prefix}… for principal {record.principal.id}, groups "
                    f"{','.join(record.principal.groups)}; shown once: store it now)"
                )
            return ExitCode.OK
        if args.action == "revoke":
            revoked = store.revoke(args.prefix)
            print(f"revoked {revoked.prefix}… (principal {revoked.principal.id})")
            return ExitCode.OK
        keys = store.list(include_revoked=args.all)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "prefix": k.prefix,
                        "principal": k.principal.id,
                        "groups": list(k.principal.groups),
                        "account": k.account,
                        "note": k.note,
                        "created_at": k.created_at.isoformat(),
                        "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
                        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                    }
                    for k in keys
                ],
                indent=2,
            )
        )
        return ExitCode.OK
    if not keys:
        print("no API keys (create one with: quarry keys create --principal ID --groups public)")
    for k in keys:
        used = f"last used {k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never used"
        state = f", revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""
        account = f", account {k.account}" if k.account else ""
        print(f"{k.prefix}…  {k.principal.id}  groups {','.join(k.principal.groups)}{account}  {used}{state}  {k.note}")
    return ExitCode.OK
