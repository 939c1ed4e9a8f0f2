"""A throw-away Synapse on loopback for ``make run`` and the test suite (needs the ``dev`` extra)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RELAXED = {"per_second": 1000, "burst_count": 1000}


def terminate(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, and SIGKILL if the process has not ended after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rate_limits(relaxed: bool = True, message: dict[str, float] | None = None) -> dict[str, Any]:
    limit = RELAXED if relaxed else {"per_second": 0.2, "burst_count": 10}
    return {
        "rc_message": message or limit,
        "rc_registration": RELAXED,
        "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
        "rc_joins": {"local": RELAXED, "remote": RELAXED},
        "rc_joins_per_room": RELAXED,
        "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
        "rc_room_creation": RELAXED,
        "rc_presence": {"per_user": RELAXED},
        "rc_3pid_validation": RELAXED,
        "rc_admin_redaction": RELAXED,
        "rc_key_requests": RELAXED,
    }


@dataclass
class Synapse:
    """Synapse with SQLite in ``directory``, listening on 127.0.0.1 only."""

    directory: Path
    server_name: str = "localhost"
    port: int = field(default_factory=free_port)
    overrides: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "homeserver.yaml"

    def configure(self) -> None:
        import yaml

        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.config_path.exists():
            subprocess.run(
                [
                    sys.executable, "-m", "synapse.app.homeserver",
                    "--server-name", self.server_name,
                    "--config-path", str(self.config_path),
                    "--data-directory", str(self.directory),
                    "--generate-config", "--report-stats=no",
                ],
                check=True, capture_output=True, cwd=self.directory,
            )  # fmt: skip
        config = yaml.safe_load(self.config_path.read_text())
        config.update(
            {
                "listeners": [
                    {
                        "port": self.port,
                        "bind_addresses": ["127.0.0.1"],
                        "type": "http",
                        "tls": False,
                        "x_forwarded": False,
                        "resources": [{"names": ["client"], "compress": False}],
                    }
                ],
                "database": {"name": "sqlite3", "args": {"database": str(self.directory / "homeserver.db")}},
                "trusted_key_servers": [],
                "suppress_key_server_warning": True,
                "federation_domain_whitelist": [],
                "enable_registration": False,
                "registration_shared_secret": config.get("registration_shared_secret")
                or secrets.token_hex(16),
                "report_stats": False,
                "presence": {"enabled": False},
                "url_preview_enabled": False,
                "log_config": str(self._write_log_config()),
                **rate_limits(),
            }
        )
        config.update(self.overrides)
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False) + "\n")

    def _write_log_config(self) -> Path:
        path = self.directory / "log.yaml"
        path.write_text(
            "version: 1\nformatters:\n  f:\n    format: '%(asctime)s %(levelname)s %(name)s %(message)s'\n"
            "handlers:\n  file:\n    class: logging.FileHandler\n    formatter: f\n"
            f"    filename: {self.directory / 'homeserver.log'}\n"
            "root:\n  level: WARNING\n  handlers: [file]\ndisable_existing_loggers: false\n"
        )
        return path

    def start(self, timeout: float = 60.0) -> None:
        self.configure()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=open(self.directory / "stderr.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited; see {self.directory / 'stderr.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise TimeoutError("synapse did not start in time")

    def stop(self) -> None:
        terminate(self.process, timeout=20)
        self.process = None

    def shared_secret(self) -> str:
        import yaml

        return str(yaml.safe_load(self.config_path.read_text())["registration_shared_secret"])

    def register(self, localpart: str, password: str, *, admin: bool = False) -> dict[str, Any]:
        """Register a user through the shared-secret admin endpoint; returns the login response."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        body: dict[str, Any] = {"nonce": nonce, "username": localpart, "password": password, "admin": admin}
        mac = hmac.new(self.shared_secret().encode(), digestmod=hashlib.sha1)
        mac.update(
            b"\x00".join(p.encode() for p in (nonce, localpart, password, "admin" if admin else "notadmin"))
        )
        body["mac"] = mac.hexdigest()
        request = urllib.request.Request(
            endpoint, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:
            detail = error.read().decode()
            if "User ID already taken" in detail:
                return {"user_id": f"@{localpart}:{self.server_name}"}
            raise RuntimeError(f"registering {localpart} failed: {detail}") from None

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"


def write_dev_config(path: Path, synapse: Synapse, bot_password: str, admin_user: str) -> None:
    data_dir = path.parent
    path.write_text(
        "# Generated by `make run` for the local development homeserver.\n"
        "[matrix]\n"
        f'homeserver = "{synapse.url}"\n'
        f'user_id = "{synapse.user_id("bot")}"\n'
        f'password = "{bot_password}"\n'
        f'store_path = "{data_dir / "store"}"\n'
        "allowed_inviters = []\n\n"
        "[bot]\n"
        f'moderators = ["{admin_user}"]\n\n'
        "[storage]\n"
        f'database_url = "sqlite+aiosqlite:///{data_dir / "bot.db"}"\n\n'
        "[web]\n"
        "enabled = true\n"
    )


def main() -> None:
    """``make run`` without a config: local Synapse under .dev/, a bot and a demo member, then the bot."""
    from bot.cli import configure_logging

    configure_logging()
    root = Path(os.environ.get("COMMUNITY_BOT_DEV_DIR", ".dev")).resolve()
    state_file = root / "dev.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    synapse = Synapse(root / "synapse", port=state.get("port") or free_port())
    synapse.start()
    bot_password = state.get("bot_password") or secrets.token_urlsafe(16)
    demo_password = state.get("demo_password") or "demo-" + secrets.token_hex(4)
    synapse.register("bot", bot_password)
    synapse.register("demo", demo_password, admin=True)
    state.update(port=synapse.port, bot_password=bot_password, demo_password=demo_password)
    state_file.write_text(json.dumps(state))
    config_path = root / "config.toml"
    write_dev_config(config_path, synapse, bot_password, synapse.user_id("demo"))
    print(
        "\n  Local homeserver: " + synapse.url + "\n"
        f"  Log in with any Matrix client (e.g. Element) as {synapse.user_id('demo')} / {demo_password}\n"
        f"  Invite {synapse.user_id('bot')} to a room and type !hilfe\n"
        f"  Config: {config_path}\n",
        flush=True,
    )
    from bot.cli import run_bot

    try:
        code = run_bot(config_path)
    finally:
        synapse.stop()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
