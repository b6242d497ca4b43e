"""Typed application state (``web.AppKey``): everything the app holds, in one place."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from media.host import RoomHost
from recordings.jobs import ReplayRenderer
from remote_check.accounts.hashing import PasswordPool
from remote_check.audit.anchor import Checkpointer
from remote_check.clock import Clock
from remote_check.settings import Settings
from scheduler.notify.runner import JobRunner
from scheduler.planning.proposals import Proposals
from web.api.registry import Api

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
ENGINE = web.AppKey("engine", AsyncEngine)
DB = web.AppKey("db", async_sessionmaker[AsyncSession])  # may write
DB_READ = web.AppKey("db_read", async_sessionmaker[AsyncSession])  # reads only
DB_ONE_READ = web.AppKey("db_one_read", async_sessionmaker[AsyncSession])  # one-statement reads only
API = web.AppKey("api", Api)
SECRET = web.AppKey("secret", bytes)
AUDIT_KEY = web.AppKey("audit_key", bytes)  # the audit chain's key (settings.audit_key())
CHECKPOINTS = web.AppKey("checkpoints", Checkpointer)  # the audit log's signed checkpoints
ROOMS = web.AppKey("rooms", RoomHost)
REPLAYS = web.AppKey("replays", ReplayRenderer)
PASSWORDS = web.AppKey("passwords", PasswordPool)  # argon2 for log-ins, off the shared thread pool
JOBS = web.AppKey("jobs", JobRunner)  # the timed jobs and notices (scheduler/notify)
PLANS = web.AppKey("plans", Proposals)  # plan proposals: the planner on a worker thread
