"""Settings: command-line options over ``RC_*`` environment variables over a TOML file over defaults.

Every estimated rate or cap of the programme (``../shared/notes/domain.md``) is a setting.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from remote_check.files import private_folder


class SamplingSettings(BaseSettings):
    """Thresholds of the strata that a draw forces in (the notice's 大幅超出 and the 90% rule)."""

    default_ratio: Decimal = Decimal("0.20")
    price_over_listed: Decimal = Decimal("1.5")
    price_over_peers: Decimal = Decimal("1.5")
    min_paid_ratio: Decimal = Decimal("0.90")


class PlanningSettings(BaseSettings):
    """The plan of the published samples' checks (``scheduler/planning/service.py``)."""

    # Checks a city runs at once (its panels): no table stores rooms, so this is their one source.
    rooms_per_city: int = Field(default=3, ge=1, le=100)
    session_minutes: int = Field(default=60, ge=15, le=240)
    # The planner's time budget; it runs on a worker thread, never on the event loop.
    seconds: float = Field(default=10.0, gt=0, le=60)


class FundingSettings(BaseSettings):
    """The allocation of a period's budget (``remote_check/funding``, docs/decisions/0006-allocation.md)."""

    # Ceilings of what one enterprise / one supplier may be paid in all (None: no cap); a supplier's own
    # ``cap_amount`` overrides supplier_cap.
    enterprise_cap: Decimal | None = Field(default=None, ge=0)
    supplier_cap: Decimal | None = Field(default=None, ge=0)
    # False: the line stops at the first project the money cannot pay (先到先得); True: later, smaller
    # projects use what is left.
    fill_gaps: bool = False
    # The money reaches the enterprises by this day (notice 五(四): 2020年6月30日前下达资金到企业).
    money_deadline: dt.date = dt.date(2020, 6, 30)
    # Working days the verdicts, the allocation and the transfer need after the last check (an estimate):
    # the deadline warning wants every check done this many working days before the money deadline.
    days_after_checks: int = Field(default=5, ge=0, le=60)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RC_", env_nested_delimiter="__", extra="ignore")

    config_file: Path | None = None
    data_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    tls_cert: Path | None = None
    tls_key: Path | None = None
    timezone: str = "Asia/Shanghai"
    # The address people reach the server by (https://…): join links and QR codes use it. Deployments must
    # set it; without it, links are built from the request's Host header (development only).
    public_url: str = ""
    session_hours: int = 12
    # Reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is believed:
    # the client's address (for the log-in throttle) is the nearest one before them. Empty: the
    # address the connection comes from, whatever the header says.
    trusted_proxies: list[str] = Field(default_factory=list)
    # argon2 runs on these threads of its own; this many more log-ins may wait for them, and any
    # more are answered 429 at once (accounts/hashing.py).
    password_workers: int = Field(default=2, ge=1)
    password_queue: int = Field(default=16, ge=0)
    invitation_grace_hours: int = 2
    # A session's room opens this many minutes before it starts (the host may open it earlier).
    room_opens_minutes: int = Field(default=15, ge=0, le=24 * 60)
    max_room_size: int = 12
    # Development only: unauthenticated /rooms/{id}/dev and /rooms/{id}/ws (web/rooms/views.py).
    rooms_dev_routes: bool = False
    # Offer 127.0.0.1 as an ICE candidate (server and browsers on one machine, e.g. tests).
    rooms_loopback_candidates: bool = False
    # Media worker processes that host the rooms (media/workers.py): None = one per core,
    # 0 = rooms in the web process.
    media_workers: int | None = Field(default=None, ge=0)
    # Kibibytes of signalling messages that may wait for a browser that does not read (beyond what
    # its socket holds) before the server closes its connection (web/rooms/outbox.py).
    room_send_backlog_kib: int = Field(default=256, ge=8)
    stun_urls: list[str] = Field(default_factory=list)
    turn_urls: list[str] = Field(default_factory=list)
    turn_username: str = ""
    turn_password: str = ""
    # Instead of one user and password for everyone: the secret shared with coturn (use-auth-secret,
    # static-auth-secret); every browser then gets its own credentials, valid for turn_credential_hours.
    turn_secret: str = ""
    turn_credential_hours: int = Field(default=12, ge=1)
    # "relay": browsers send media only through the TURN server (for networks that allow nothing
    # else); "all": any path that works, TURN only as the last resort.
    ice_transport_policy: Literal["all", "relay"] = "all"
    # E-mail notices (scheduler/notify): no smtp_host, no e-mail. "starttls" upgrades a plain connection,
    # "tls" connects with TLS at once (port 465), "none" is for a relay on the same machine.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "remote-check@localhost"
    # Each city's WeCom (企业微信) group robot: city code -> webhook URL (https://qyapi.weixin.qq.com/...).
    wecom_webhooks: dict[str, str] = Field(default_factory=dict)
    # Timed jobs: a job missed (the server was down) by up to this many minutes still runs at start-up.
    jobs_misfire_grace_minutes: int = Field(default=60, ge=1)
    # False: jobs are derived and listed but never fired by the wall clock (tests run them by hand).
    jobs_timer: bool = True
    # How often every due notice is looked for in the rows (bookings made by other processes, retries),
    # and how often a process that does not run the jobs (PostgreSQL) tries to take over.
    jobs_sweep_seconds: int = Field(default=60, ge=1)
    jobs_leader_retry_seconds: int = Field(default=30, ge=1)
    reminder_minutes: int = Field(default=15, ge=1)
    no_show_minutes: int = Field(default=15, ge=1)
    # The connectivity-test invitation goes out at this hour (local) of the working day before.
    connectivity_invite_hour: int = Field(default=17, ge=0, le=23)
    outbox_max_attempts: int = Field(default=6, ge=1)
    # Objections (异议) to a city's published results are taken until this many working days after.
    objection_working_days: int = Field(default=5, ge=1, le=60)
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    planning: PlanningSettings = Field(default_factory=PlanningSettings)
    funding: FundingSettings = Field(default_factory=FundingSettings)
    # Signed checkpoints of the audit log (<data>/audit-checkpoints/): one at most this often while
    # the log grows, and one at shutdown. A copy goes to audit_checkpoint_copy_dir too when set
    # (a folder on another machine or write-once storage, out of reach of whoever holds the database).
    audit_checkpoint_minutes: float = Field(default=5.0, gt=0)
    audit_checkpoint_copy_dir: Path | None = None

    @model_validator(mode="after")
    def _relay_needs_turn(self) -> Settings:
        if self.ice_transport_policy == "relay" and not self.turn_urls:
            raise ValueError("ice_transport_policy = relay needs turn_urls (a TURN server)")
        if self.turn_secret and (self.turn_username or self.turn_password):
            raise ValueError("set turn_secret or turn_username and turn_password, not both")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {entry!r} is not an address or network") from None
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    @property
    def db_url(self) -> str:
        """The database URL; by default a SQLite file in the data folder."""
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'remote-check.sqlite3'}"

    def secret_key(self) -> bytes:
        """The server's signing key, made once and kept in the data folder (mode 0600).

        A damaged key file is an error, never an empty key: links signed with it could be forged.
        """
        return key_file(self.data_dir / "secret.key")

    def audit_key(self) -> bytes:
        """The key of the audit log's hash chain and checkpoints (``audit.key`` in the data folder,
        mode 0600): kept apart from the secret key, so that renewing that one after a leak leaves
        the log verifiable, and outside the database, so that whoever can write the database
        cannot recompute the chain."""
        return key_file(self.data_dir / "audit.key")

    @property
    def audit_checkpoints_dir(self) -> Path:
        """Where the signed checkpoints of the audit log are kept."""
        return self.data_dir / "audit-checkpoints"


def key_file(path: Path) -> bytes:
    """The 32-byte key in ``path`` (hex), made there once (mode 0600) when it does not exist.

    A damaged key file is an error, never an empty key.
    """
    if not path.exists():
        private_folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ValueError(f"{path} holds no 32-byte hex key; restore it, or remove it for a new one")
    return key


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; ``overrides`` are command-line options (``None`` means not given)."""
    path = config_file or os.environ.get("RC_CONFIG_FILE")
    given = {key: value for key, value in overrides.items() if value is not None}
    if not path:
        return Settings(**given)
    if not Path(path).is_file():
        raise FileNotFoundError(f"settings file not found: {path}")
    config = SettingsConfigDict(**{**Settings.model_config, "toml_file": path})
    file_settings: type[Settings] = type("FileSettings", (Settings,), {"model_config": config})
    return file_settings(**given)
