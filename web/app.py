"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from sqlalchemy.exc import SQLAlchemyError

from media.internals import include_loopback_candidates
from media.workers import make_room_host
from recordings.integrity import manifest_key
from recordings.jobs import ReplayRenderer
from recordings.paths import recordings_root
from recordings.recovery import recover
from remote_check.accounts.hashing import PasswordPool
from remote_check.audit.anchor import Checkpointer, copy_sinks
from remote_check.clock import Clock, SystemClock, format_local
from remote_check.database import make_engine, make_reader, make_sessionmaker, make_single_reader
from remote_check.files import owner_only_files
from remote_check.money import format_money
from remote_check.settings import Settings
from scheduler.notify.changes import watch
from scheduler.notify.runner import JobRunner
from scheduler.planning.proposals import Proposals
from web import middlewares
from web.api import openapi
from web.api.registry import Api, mount
from web.context import principal_of, template_context
from web.keys import (
    API,
    AUDIT_KEY,
    CHECKPOINTS,
    CLOCK,
    DB,
    DB_ONE_READ,
    DB_READ,
    ENGINE,
    JOBS,
    PASSWORDS,
    PLANS,
    REPLAYS,
    ROOMS,
    SECRET,
    SETTINGS,
)
from web.routes import API_MODULES, PAGE_MODULES

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
MAX_UPLOAD = 20 * 1024 * 1024


async def _database(app: web.Application) -> AsyncIterator[None]:
    engine = make_engine(app[SETTINGS].db_url)
    app[ENGINE] = engine
    app[DB] = make_sessionmaker(engine, audit_key=app[AUDIT_KEY])
    app[DB_READ] = make_reader(engine)
    app[DB_ONE_READ] = make_single_reader(engine)  # who is signed in, on every request
    yield
    await engine.dispose()


async def _audit_checkpoints(app: web.Application) -> AsyncIterator[None]:
    # torn down after everything appended later (rooms, replays): their last audits are covered
    settings = app[SETTINGS]
    checkpointer = Checkpointer(
        app[DB_READ],
        app[AUDIT_KEY],
        settings.audit_checkpoints_dir,
        app[CLOCK],
        dt.timedelta(minutes=settings.audit_checkpoint_minutes),
        sinks=copy_sinks(settings.audit_checkpoint_copy_dir),
    )
    app[CHECKPOINTS] = checkpointer
    checkpointer.start()
    yield
    await checkpointer.close()


async def _passwords(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pool = PasswordPool(settings.password_workers, settings.password_queue)
    app[PASSWORDS] = pool
    yield
    await asyncio.to_thread(pool.close)  # waits for at most one argon2 per worker


async def _replays(app: web.Application) -> AsyncIterator[None]:
    # before the rooms take calls: finalise what a killed server left recording, then render
    settings = app[SETTINGS]
    try:
        await recover(app[DB], recordings_root(settings), manifest_key(app[SECRET]), app[CLOCK].now())
    except SQLAlchemyError:  # a database not migrated yet: nothing can have been recording
        log.exception("recordings left by a killed server could not be finalised")
    renderer = ReplayRenderer(app[DB], settings, app[CLOCK])
    app[REPLAYS] = renderer
    renderer.start()
    yield
    await renderer.close()


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    # the timed jobs (APScheduler) and notices; every committed booking change derives its jobs again
    runner = JobRunner(app[ENGINE], app[DB], app[SETTINGS], app[CLOCK], app[SECRET], reader=app[DB_READ])
    app[JOBS] = runner
    watch(app[DB], runner.changed)
    try:
        await runner.start()
    except SQLAlchemyError:  # a database not migrated yet: no session to notify of
        log.exception("the timed jobs could not be derived from the database")
    yield
    await runner.close()


async def _plans(app: web.Application) -> AsyncIterator[None]:
    proposals = Proposals()
    app[PLANS] = proposals
    yield
    await proposals.close()  # a running planner stops at its time budget


async def _rooms(app: web.Application) -> AsyncIterator[None]:
    # The room host (its media workers start on first use). It stops after the rooms' sockets,
    # long-lived connections, were closed on shutdown (web.rooms.views): their handlers have left
    # the rooms, so a recording was finished and its stop audited as at a host's stop; then every
    # call left is ended (a recording cut so is finalised at the next start).
    settings = app[SETTINGS]
    if settings.rooms_loopback_candidates:
        include_loopback_candidates()
    host = make_room_host(settings)
    app[ROOMS] = host
    yield
    await host.close()


class _MalformedRequestsInOneLine(logging.Filter):
    """aiohttp answers a request it cannot parse (a NUL byte in a header…) with 400 itself, but logs
    it with a traceback as if the server had failed: log it as one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            record.msg = f"{record.getMessage()}: refused a malformed request: {record.exc_info[1].message!r}"
            record.args = ()
            record.exc_info = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


MALFORMED_REQUESTS = _MalformedRequestsInOneLine()


async def _context_processor(request: web.Request) -> dict[str, Any]:
    return template_context(request)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    """Build the app; resources open in ``cleanup_ctx`` when it starts and close when it stops."""
    owner_only_files()
    logging.getLogger("aiohttp.server").addFilter(MALFORMED_REQUESTS)  # once: adding it again is a no-op
    app = web.Application(
        middlewares=[
            middlewares.language,
            middlewares.errors,
            middlewares.ids_in_range,
            middlewares.identity,
            middlewares.forms,
            middlewares.csrf,
        ],
        client_max_size=MAX_UPLOAD,
    )
    app.on_response_prepare.append(middlewares.security_headers)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[SECRET] = settings.secret_key()
    app[AUDIT_KEY] = settings.audit_key()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_audit_checkpoints)
    app.cleanup_ctx.append(_passwords)
    app.cleanup_ctx.append(_replays)
    app.cleanup_ctx.append(_rooms)  # after the replays' recovery: rooms take calls once it is done
    app.cleanup_ctx.append(_jobs)
    app.cleanup_ctx.append(_plans)

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[_context_processor],
        undefined=jinja2.StrictUndefined,
    )
    env.filters["local"] = format_local
    env.filters["money"] = format_money

    combined = Api("all")
    for module in API_MODULES:
        api: Api = module.api
        mount(app, api, principal_of)
        combined.endpoints.extend(api.endpoints)
    app[API] = combined
    document = openapi.build_document(combined.endpoints, "Remote Check API", "0.1.0")

    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/openapi.json", openapi_json, name="openapi")
    for page_module in PAGE_MODULES:
        app.router.add_routes(page_module.routes)
        setup = getattr(page_module, "setup", None)
        if setup is not None:
            setup(app)
    app.router.add_static("/static", HERE / "static", name="static")

    async def favicon(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(HERE / "static" / "favicon.ico", headers={"Cache-Control": "max-age=86400"})

    app.router.add_get("/favicon.ico", favicon, name="favicon")
    return app
