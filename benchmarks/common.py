"""Shared pieces of the speed benchmarks: homeserver, bots, light-weight members, statistics, tables.

Every benchmark starts its own Synapse on loopback (``bot.devserver.Synapse``), our bot as a real process
(``tests.e2e.harness.BotProcess``) and the bare matrix-nio echo bot (``benchmarks.echo_bot``) as the floor on
the same homeserver, so both are measured in the same run under the same load.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import platform
import secrets
import statistics
import tempfile
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.devserver import Synapse
from tests.e2e.harness import BotProcess, LoggedProcess

# Password hashing dominates registering hundreds of users; it plays no part in what is measured.
FAST_HASHING = {"bcrypt_rounds": 4}


# --- the machine -------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs ({_cpu_model()}), {_ram_gib():.1f} GiB RAM, "
        f"Python {platform.python_version()}, Synapse {_version('matrix-synapse')} (SQLite), "
        f"matrix-nio {_version('matrix-nio')}, load average {load_average()}"
    )


# --- statistics and tables ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50) * 1000,
        "p95": percentile(values, 95) * 1000,
        "p99": percentile(values, 99) * 1000,
        "mean": statistics.fmean(values) * 1000 if values else float("nan"),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (pasted as is into docs/performance.md)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


# --- processes ---------------------------------------------------------------------------------------------


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc."""
    values: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def homeserver(directory: Path | None = None, **overrides: Any) -> Iterator[Synapse]:
    """A fresh Synapse on loopback for one benchmark, stopped afterwards."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        server = Synapse(directory / "synapse", overrides={**FAST_HASHING, **overrides})
        server.start()
        try:
            yield server
        finally:
            server.stop()


def our_bot(
    synapse: Synapse,
    workdir: Path,
    *,
    encryption: bool = True,
    localpart: str = "bot",
    extra_config: str = "",
) -> BotProcess:
    """Our bot with the default configuration (plus ``extra_config``, TOML sections appended); members of this
    homeserver may invite it."""
    process = BotProcess(synapse, workdir / localpart, ["localhost"], extra_config, localpart=localpart)
    if not encryption:
        # [matrix] is the first section of the generated file; the flag belongs there.
        text = process.config_path.read_text()
        process.config_path.write_text(text.replace("[storage]", "encryption = false\n\n[storage]", 1))
    return process


class EchoProcess(LoggedProcess):
    """``python -m benchmarks.echo_bot`` as a subprocess (same life cycle as BotProcess)."""

    def __init__(
        self, synapse: Synapse, workdir: Path, encryption: bool = True, localpart: str = "echo"
    ) -> None:
        self.synapse, self.workdir, self.encryption, self.localpart = synapse, workdir, encryption, localpart
        self.process = None
        self.password = "pw-" + secrets.token_hex(6)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.synapse.register(self.localpart, self.password)
        self.log_path = self.workdir / "echo.log"
        self.ready_line = "echo bot is ready"

    @property
    def user_id(self) -> str:
        return self.synapse.user_id(self.localpart)

    def start(self, timeout: float = 60.0) -> None:
        args = [
            "benchmarks.echo_bot",
            "--homeserver", self.synapse.url,
            "--user", self.user_id,
            "--password", self.password,
            "--store", str(self.workdir / "store"),
        ]  # fmt: skip
        if not self.encryption:
            args.append("--no-encryption")
        self._spawn(args, timeout=timeout)


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line or line.startswith("Traceback")]


# --- light-weight members: only an access token, no sync, no crypto -------------------------------------


@dataclass
class Token:
    user_id: str
    access_token: str


class Http:
    """The client-server and admin API over one aiohttp session."""

    def __init__(self, synapse: Synapse, limit: int = 100) -> None:
        self.synapse = synapse
        self.session = aiohttp.ClientSession(
            base_url=synapse.url,
            connector=aiohttp.TCPConnector(limit=limit),
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def close(self) -> None:
        await self.session.close()

    async def request(
        self, method: str, path: str, token: str | None = None, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for attempt in range(20):
            async with self.session.request(method, path, json=body, headers=headers) as response:
                data = await response.json(content_type=None)
                if response.status == 429 and attempt < 19:
                    await asyncio.sleep(data.get("retry_after_ms", 200) / 1000)
                    continue
                if response.status >= 400:
                    raise RuntimeError(f"{method} {path}: {response.status} {data}")
                return dict(data)
        raise AssertionError("unreachable")

    async def register(self, localpart: str, *, admin: bool = False) -> Token:
        """Shared-secret admin registration (``/_synapse/admin/v1/register``); returns the new token."""
        nonce = (await self.request("GET", "/_synapse/admin/v1/register"))["nonce"]
        password = "pw-" + localpart
        mac = hmac.new(self.synapse.shared_secret().encode(), digestmod=hashlib.sha1)
        kind = "admin" if admin else "notadmin"
        mac.update(b"\x00".join(p.encode() for p in (nonce, localpart, password, kind)))
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        data = await self.request("POST", "/_synapse/admin/v1/register", body=body)
        return Token(data["user_id"], data["access_token"])

    async def register_many(self, localparts: Sequence[str], concurrency: int = 8) -> list[Token]:
        gate = asyncio.Semaphore(concurrency)

        async def one(localpart: str) -> Token:
            async with gate:
                return await self.register(localpart)

        return list(await asyncio.gather(*(one(name) for name in localparts)))

    async def create_user(self, admin: Token, localpart: str) -> str:
        """A user without a password (no hashing) through ``PUT /_synapse/admin/v2/users``."""
        user_id = self.synapse.user_id(localpart)
        await self.request(
            "PUT", f"/_synapse/admin/v2/users/{_q(user_id)}", admin.access_token, {"displayname": localpart}
        )
        return user_id

    async def force_join(self, admin: Token, room_id: str, user_id: str) -> None:
        await self.request(
            "POST", f"/_synapse/admin/v1/join/{_q(room_id)}", admin.access_token, {"user_id": user_id}
        )

    async def create_room(self, token: Token, name: str, *, public: bool = True) -> str:
        body = {"name": name, "preset": "public_chat" if public else "private_chat"}
        return str(
            (await self.request("POST", "/_matrix/client/v3/createRoom", token.access_token, body))["room_id"]
        )

    async def join(self, token: Token, room_id: str) -> None:
        await self.request("POST", f"/_matrix/client/v3/join/{_q(room_id)}", token.access_token, {})

    async def send_text(self, token: Token, room_id: str, text: str) -> str:
        txn = secrets.token_hex(8)
        path = f"/_matrix/client/v3/rooms/{_q(room_id)}/send/m.room.message/{txn}"
        data = await self.request("PUT", path, token.access_token, {"msgtype": "m.text", "body": text})
        return str(data["event_id"])


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def banner(title: str) -> None:
    print(f"\n## {title}\n", flush=True)
