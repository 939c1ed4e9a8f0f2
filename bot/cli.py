"""``community-bot``: run the bot, check the configuration, migrate the database, manage its identity."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings, resolve_config_path


def configure_logging(*, verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("nio", "apscheduler.scheduler", "aiosqlite", "peewee", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(config: str | None) -> Settings | None:
    try:
        return load_settings(config)
    except ConfigError as error:
        print(f"Configuration problems in {resolve_config_path(config)}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None


def run_bot(config: str | Path | None) -> int:
    settings = _load(str(config) if config else None)
    if settings is None:
        return 2
    from bot.app import App
    from bot.crypto import CrossSigningError

    async def main() -> None:
        await App(settings).run()

    from bot.app import FatalError

    try:
        asyncio.run(main())
    except CrossSigningError as error:
        print(f"community-bot cannot start: {error}", file=sys.stderr)
        return 3
    except FatalError as error:
        print(f"community-bot stopped: {error}", file=sys.stderr)
        return 4
    return 0


def crypto_command(settings: Settings, action: str) -> int:
    """``crypto status`` shows the identity (never a secret); ``crypto reset-identity`` replaces it."""
    from bot.app import App
    from bot.crypto import CrossSigningError
    from bot.matrix import announce_recovery_key

    async def main() -> int:
        app = App(settings)
        matrix = app.matrix
        if action == "status" and not matrix.credentials_file.exists():
            print(f"No stored login in {matrix.store_path}: the bot has not run with this store yet.")
            return 1
        try:
            await matrix.login()
            if matrix.client.should_upload_keys:
                await matrix.client.keys_upload()
            cross_signing = matrix.cross_signing()
            if action == "reset-identity":
                announce_recovery_key(await cross_signing.reset_identity())
                print("New identity set up; members' clients will show that the bot's identity changed.")
            for line in (await cross_signing.status()).lines():
                print(line)
            return 0
        except CrossSigningError as error:
            print(f"community-bot crypto {action}: {error}", file=sys.stderr)
            return 3
        finally:
            await matrix.close()
            await app.db.close()

    return asyncio.run(main())


def outbox_command(settings: Settings, action: str, ids: list[int]) -> int:
    from bot import outbox_admin

    url = settings.storage.database_url
    if action == "retry":
        count = asyncio.run(outbox_admin.retry(url, ids or None))
        print(f"{count} message(s) queued again; the running bot sends them within half a minute.")
        return 0
    lines = asyncio.run(outbox_admin.list_failed(url))
    print("\n".join(lines) if lines else "No failed messages.")
    return 0


def status_command(settings: Settings, alive_within: float | None = None) -> int:
    """The running bot's figures (from its own /readyz and /metrics); exit 1 when it is not ready.
    With ``alive_within``: only wait (up to that many seconds) until /healthz answers (systemd's start)."""
    from bot.web import status

    if not settings.web.enabled:
        print("The web server is off ([web] enabled = false): nothing to ask.", file=sys.stderr)
        return 2
    if alive_within is not None:
        return 0 if status.wait_alive(settings, alive_within) else 1
    try:
        data = status.collect(settings)
    except (OSError, RuntimeError) as error:
        print(f"community-bot is not answering on {status.base_url(settings)}: {error}", file=sys.stderr)
        return 3
    print("\n".join(status.render(data)))
    return 0 if data["ready"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="community-bot", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "connect and serve"), ("check-config", "validate the configuration")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument(
            "--config", help="path of the TOML file (default ./config.toml or $COMMUNITY_BOT_CONFIG)"
        )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.add_argument("--config")
    crypto = sub.add_parser(
        "crypto", help="the bot's encryption identity: status, or reset-identity (stop the bot first)"
    )
    crypto.add_argument("action", choices=["status", "reset-identity"])
    crypto.add_argument("--config")
    outbox = sub.add_parser(
        "outbox", help="messages the homeserver refused for good: list them, or queue them again"
    )
    outbox.add_argument("action", choices=["list", "retry"], nargs="?", default="list")
    outbox.add_argument("ids", nargs="*", type=int, help="retry only these (default: all failed)")
    outbox.add_argument("--config")
    status = sub.add_parser("status", help="figures of the running bot (readiness, outbox, sync, commands)")
    status.add_argument("--config")
    status.add_argument(
        "--alive-within",
        type=float,
        metavar="SECONDS",
        help="only wait until /healthz answers (exit 0) or not",
    )
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    if args.command == "run":
        return run_bot(args.config)
    settings = _load(args.config)
    if settings is None:
        return 2
    if args.command == "check-config":
        print(f"Configuration OK: {settings.matrix.user_id} on {settings.matrix.homeserver}")
        if not settings.matrix.allowed_inviters:
            print(
                "Warning: [matrix] allowed_inviters is empty, so only [bot] admins and moderators can invite "
                "the bot. List your network's servers or people there if more may bring it into rooms."
            )
        return 0
    if args.command == "crypto":
        return crypto_command(settings, args.action)
    if args.command == "outbox":
        return outbox_command(settings, args.action, args.ids)
    if args.command == "status":
        return status_command(settings, args.alive_within)
    from storage.db import upgrade_database

    upgrade_database(settings.storage.database_url)
    print("database is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
