"""`kpi token` and `kpi notify-secret`: API tokens, and the secret notifications are signed
with."""

from __future__ import annotations

import argparse

from service.cli.common import Subcommands, actor_option, print_err, run
from service.config import Settings
from service.db import Connection
from service.models.enums import Scope
from service.models.tokens import ReadScope


def register(sub: Subcommands, quiet: argparse.ArgumentParser) -> None:
    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    create = token.add_parser("create", help="create a token and print it alone on stdout")
    create.add_argument("--name", required=True)
    create.add_argument("--scope", action="append", required=True,
                        help="read, ingest or admin (repeat or comma-separate)")  # fmt: skip
    create.add_argument("--team", help="limit the token to this team's services (by slug), "
                        "those of the teams under it included")  # fmt: skip
    create.add_argument("--read-scope", choices=[r.value for r in ReadScope], default="all",
                        help="team: limit its reads to the team's services too")  # fmt: skip
    actor_option(create)
    create.set_defaults(func=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    actor_option(revoke)
    revoke.set_defaults(func=cmd_token_revoke)

    sub.add_parser(
        "notify-secret", help="print the secret (whsec_...) that verifies notifications"
    ).set_defaults(func=cmd_notify_secret)


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.tokens import create_token

    scopes = [Scope(s) for part in args.scope for s in part.split(",") if s]

    async def work(con: Connection) -> int:
        token = await create_token(
            con, name=args.name, scopes=scopes, team=args.team,
            read_scope=ReadScope(args.read_scope),
        )  # fmt: skip
        print(token.token)
        return 0

    return run(settings, work)


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from service.usecases.tokens import revoke_token

    async def work(con: Connection) -> int:
        await revoke_token(con, token_id=args.id)
        print_err(f"token {args.id} revoked")
        return 0

    return run(settings, work)


def cmd_notify_secret(args: argparse.Namespace, settings: Settings) -> int:
    from service.notify import signing
    from service.usecases import notifications

    configured = settings.notify_secret.get_secret_value() if settings.notify_secret else None
    if configured is not None:
        try:
            print(signing.format_secret(signing.parse_secret(configured)))
        except ValueError as exc:
            print_err(f"error: KPI_NOTIFY_SECRET: {exc}")
            return 2
        return 0

    async def work(con: Connection) -> int:
        print(signing.format_secret(await notifications.signing_secret(con, None)))
        return 0

    return run(settings, work)
