"""The bot's small HTTP server (aiohttp, which matrix-nio brings along): health, readiness, metrics, and the
routes features add (calendar feeds, agenda pages). Read-only: GET and HEAD, no request bodies, small
request lines and headers, strict security headers. See docs/web.md."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import text

from bot.web.metrics import Metrics, instrument_commands
from bot.web.ratelimit import MissLimiter

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

RouteSetup = Callable[["App", web.Application], None]
MAX_REQUEST_LINE = 2048
MAX_HEADER_FIELD = 4096
DB_CHECK_TIMEOUT = 5.0
# Pages may only load their own files; nothing inline, no frames unless a route allows it (widgets).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
# Routes that features add (the calendar feed, the agenda page): registered by their modules at import.
ROUTE_SETUPS: list[RouteSetup] = []


def add_routes(setup: RouteSetup) -> RouteSetup:
    ROUTE_SETUPS.append(setup)
    return setup


def json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body, sort_keys=True),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def not_found() -> web.Response:
    """The same answer for every unknown path and token: no hint whether something ever existed."""
    return web.Response(status=404, text="Not found\n", headers={"Cache-Control": "no-store"})


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Any:
    if request.method not in ("GET", "HEAD"):
        response: web.StreamResponse = web.Response(status=405, text="Method not allowed\n")
        response.headers["Allow"] = "GET, HEAD"
    elif request.content_length or request.headers.get("Transfer-Encoding"):
        response = web.Response(status=413, text="No request body expected\n")
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = not_found() if exc.status == 404 else web.Response(status=exc.status, text=exc.reason)
        except Exception:
            log.exception("%s %s failed", request.method, request.rel_url.path[:40])
            response = web.Response(status=500, text="Internal error\n")
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


class WebServer:
    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings.web
        self.metrics = Metrics(app)
        self.misses = MissLimiter()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        instrument_commands(app.features)

    def build(self) -> web.Application:
        application = web.Application(client_max_size=1024, middlewares=[guard])
        application.router.add_get("/healthz", self.healthz)
        application.router.add_get("/readyz", self.readyz)
        application.router.add_get("/metrics", self.metrics_route)
        for setup in ROUTE_SETUPS:
            setup(self.app, application)
        return application

    async def start(self) -> None:
        """Listen before the first sync, so that /healthz and /readyz answer while the bot connects."""
        from nio import MegolmEvent

        client = self.app.matrix.client
        client.add_event_callback(self.metrics.on_undecryptable, MegolmEvent)  # type: ignore[arg-type]
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

        self.app.scheduler.add_listener(self.metrics.on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        if not self.settings.enabled:
            return
        self._runner = web.AppRunner(
            self.build(),
            access_log=None,
            max_line_size=MAX_REQUEST_LINE,
            max_field_size=MAX_HEADER_FIELD,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.bind, self.settings.port, shutdown_timeout=2.0)
        try:
            await site.start()
        except OSError as exc:
            from bot.app import FatalError

            await self._runner.cleanup()
            self._runner = None
            raise FatalError(
                f"the web server cannot listen on {self.settings.bind}:{self.settings.port} "
                f"({exc.strerror}); change [web] port or bind, or set [web] enabled = false"
            ) from None
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.port
        log.info("web server listening on http://%s:%s", self.settings.bind, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- operations -----------------------------------------------------------------------------------------

    async def healthz(self, request: web.Request) -> web.Response:
        return json_response(200, {"status": "alive"})

    async def readiness(self) -> list[str]:
        """Reasons the bot is not ready (empty: ready)."""
        reasons = []
        age = self.metrics.sync_age_seconds()
        if age is None or not self.app.matrix.ready.is_set():
            reasons.append("no successful sync yet")
        elif age > self.settings.ready_sync_age_seconds:
            reasons.append(f"last successful sync {age:.0f}s ago")
        try:
            async with asyncio.timeout(DB_CHECK_TIMEOUT), self.app.db.transaction() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            reasons.append(f"database not answering ({type(exc).__name__})")
        if not self.app.scheduler.running:
            reasons.append("scheduler not running")
        return reasons

    async def readyz(self, request: web.Request) -> web.Response:
        reasons = await self.readiness()
        self.metrics.ready.set(0 if reasons else 1)
        if reasons:
            return json_response(503, {"status": "not ready", "reasons": reasons})
        return json_response(200, {"status": "ready"})

    async def metrics_route(self, request: web.Request) -> web.Response:
        token = self.settings.metrics_token
        if token is not None:
            given = request.headers.get("Authorization", "")
            expected = "Bearer " + token.get_secret_value()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return web.Response(
                    status=401, text="Unauthorized\n", headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
                )
        self.metrics.ready.set(0 if await self.readiness() else 1)
        try:
            await self.metrics.refresh()
        except Exception:
            log.exception("reading metrics from the database failed")
        return web.Response(
            body=self.metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store"},
        )
