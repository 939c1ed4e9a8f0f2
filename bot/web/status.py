"""``community-bot status``: the running bot's figures, read from its own /readyz and /metrics on loopback."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from typing import Any

from bot.config import Settings

# (metric family, label to print, format); counters are listed with every label combination.
FIGURES = (
    ("community_bot_sync_age_seconds", "Last successful sync (s ago)", "{:.0f}"),
    ("community_bot_rooms", "Rooms", "{:.0f}"),
    ("community_bot_members", "Members", "{:.0f}"),
    ("community_bot_outbox_pending", "Outbox: waiting", "{:.0f}"),
    ("community_bot_outbox_failed", "Outbox: failed for good", "{:.0f}"),
    ("community_bot_scheduled_jobs_pending", "Scheduled jobs pending", "{:.0f}"),
    ("community_bot_scheduled_jobs_overdue", "Scheduled jobs overdue", "{:.0f}"),
    ("community_bot_scheduled_jobs_missed", "Scheduled job runs missed", "{:.0f}"),
    ("community_bot_decryption_failures", "Decryption failures", "{:.0f}"),
)


def base_url(settings: Settings) -> str:
    host = settings.web.bind
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web.port}"


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


def wait_alive(settings: Settings, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            if _get(base_url(settings) + "/healthz")[0] == 200:
                return True
        except OSError:
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def collect(settings: Settings) -> dict[str, Any]:
    """Readiness and metric samples (name → list of (labels, value))."""
    from prometheus_client.parser import text_string_to_metric_families

    url = base_url(settings)
    status, body = _get(url + "/readyz")
    token = settings.web.metrics_token.get_secret_value() if settings.web.metrics_token else None
    metrics_status, metrics_body = _get(url + "/metrics", token)
    if metrics_status != 200:
        raise RuntimeError(f"{url}/metrics answered {metrics_status}")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics_body.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return {"ready": status == 200, "readiness": json.loads(body or b"{}"), "samples": samples}


def render(data: dict[str, Any]) -> list[str]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = data["samples"]
    reasons = data["readiness"].get("reasons", [])
    lines = ["Ready: yes" if data["ready"] else "Ready: NO (" + "; ".join(reasons) + ")"]

    def value(name: str) -> float | None:
        found = samples.get(name) or samples.get(name + "_total")
        return sum(v for _, v in found) if found else None

    for name, label, fmt in FIGURES:
        number = value(name)
        shown = "–" if number is None or math.isnan(number) else fmt.format(number)
        lines.append(f"{label}: {shown}")
    count = value("community_bot_reply_latency_seconds_count") or 0
    total = value("community_bot_reply_latency_seconds_sum") or 0
    lines.append(f"Replies measured: {count:.0f}" + (f", mean latency {total / count:.2f}s" if count else ""))
    commands = sorted(
        samples.get("community_bot_commands_total", []), key=lambda s: (s[0].get("command", ""), s[1])
    )
    if commands:
        lines.append("Commands (since start):")
        lines += [f"  {labels['command']} [{labels['outcome']}]: {v:.0f}" for labels, v in commands]
    return lines
