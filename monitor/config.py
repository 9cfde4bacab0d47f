"""Settings from the environment (prefix ``DRIFT_MONITOR_``) and the TOML config file.

Environment settings say *where* things are (database, config file, data directory); the TOML file
says *what* to watch and *whom* to tell. The Hugging Face token is deliberately absent: it is read from
``HF_TOKEN`` by ``huggingface_hub`` itself and never stored or logged by us. A git URL's credentials
(``https://user:TOKEN@host/r.git``) go to git's credential store (``git_credentials``), not the database;
every secret is masked by ``monitor._redact`` wherever text leaves the process.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitor.errors import ConfigError

__all__ = [
    "AlertsConfig",
    "BaselineConfig",
    "ChannelConfig",
    "EngineConfig",
    "ExecutorConfig",
    "MonitorConfig",
    "ScheduleConfig",
    "Settings",
    "WatchedModelConfig",
    "default_model_name",
    "load_config",
    "load_settings",
]

SourceKind = Literal["hf", "git", "endpoint"]
EngineKind = Literal["transformers", "vllm", "openai"]


class Settings(BaseSettings):
    """Where the monitor keeps its state; every field can be set as ``DRIFT_MONITOR_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="DRIFT_MONITOR_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///drift-monitor.db",
        description="SQLAlchemy URL of the database; a SQLite file in the working directory by default.",
    )
    config: Path | None = Field(default=None, description="Path of the TOML config file (watched models, channels).")
    data_dir: Path = Field(
        default=Path(".drift-monitor"),
        description="Directory for caches: downloaded snapshots, the demo repository, classifier versions.",
    )
    git_credentials: Path | None = Field(
        default=None,
        description=(
            "git credential-store file for the credentials of watched git URLs (default: "
            "<data_dir>/git-credentials); the database only ever holds the URL without them."
        ),
    )
    log_json: bool = Field(default=False, description="Write logs as one JSON object per line.")
    log_level: str = Field(default="INFO", description="Logging level: DEBUG, INFO, WARNING or ERROR.")
    dashboard_user_header: str | None = Field(
        default=None,
        description="HTTP header a trusted reverse proxy sets to the signed-in reviewer (oauth2-proxy: "
        "X-Forwarded-Email); the dashboard records it on every acknowledgement and relabel.",
    )
    dashboard_unverified_writes: bool = Field(
        default=False,
        description="Without a proxy header or st.login, let the dashboard write under a typed name marked "
        "'(unverified)'; off, the dashboard is read-only.",
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EngineConfig(_Strict):
    """How a watched model is run: the engine kind and its options (passed to the engine as-is)."""

    kind: EngineKind = "transformers"
    options: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float = Field(default=6 * 3600, gt=0)
    batch_size: int | None = Field(default=None, ge=1)  # None: the engine picks (by prompt length and memory)


class ScheduleConfig(_Strict):
    """When a watched model is polled and when its current revision is re-run."""

    interval_minutes: float | None = Field(default=60, gt=0)
    cron: str | None = None
    jitter_seconds: int = Field(default=60, ge=0)
    rerun_interval_hours: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleConfig:
        if self.cron is not None and self.cron.count(" ") != 4:
            raise ValueError(f"cron must have five fields (minute hour day month weekday), got {self.cron!r}")
        return self


class BaselineConfig(_Strict):
    """Which revision a new revision is compared with: the previous one, or a pinned sha or tag."""

    policy: Literal["previous", "pinned"] = "previous"
    ref: str | None = None

    @model_validator(mode="after")
    def _pinned_needs_ref(self) -> BaselineConfig:
        if self.policy == "pinned" and not self.ref:
            raise ValueError("policy 'pinned' needs ref = a commit sha or tag")
        return self


class WatchedModelConfig(_Strict):
    """One model to watch."""

    repo: str = Field(min_length=1)
    name: str | None = Field(
        default=None,
        min_length=1,
        description="What people call the model on the dashboard (default: the Hub id, or a git folder's name).",
    )
    ref: str = "main"
    source: SourceKind = "hf"
    expect: str | None = Field(default=None, description="The identity the model should claim, e.g. deepseek.")
    suites: list[str] = Field(default_factory=lambda: ["identity", "reasoning"])
    samples: int | None = Field(default=None, ge=1, description="Override the suites' samples per probe.")
    limit: int | None = Field(default=None, ge=1, description="Run only the first N probes of each suite.")
    max_tokens: int | None = Field(default=None, ge=1, description="Override the suites' max_tokens per response.")
    engine: EngineConfig = Field(default_factory=EngineConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)


class ChannelConfig(_Strict):
    """An alert channel: an apprise URL (slack://, mailto://, json://, ...) or a local file."""

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    min_severity: Literal["low", "medium", "high"] = "low"


class AlertsConfig(_Strict):
    """Delivery policy shared by all channels."""

    poll_failure_threshold: int = Field(default=3, ge=1)
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_s: float = Field(default=30.0, gt=0)
    backoff_max_s: float = Field(default=3600.0, gt=0)
    claim_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="How long a send may take: a message whose sender died mid-send is sent again after it.",
    )


class ExecutorConfig(_Strict):
    """Where runs are generated: ``local`` (a worker process beside the service) or ``ray`` (a Ray cluster).

    With Ray, each run (or each shard of ``shard_size`` probes) is a Ray task whose resources come from
    its engine; ``max_in_flight`` bounds how many are submitted at once (the cluster bounds how many run).
    Polling, analysis, comparisons and alerts stay in the service that holds the lease.
    """

    kind: Literal["local", "ray"] = "local"
    address: str | None = Field(default=None, description="The Ray cluster: 'auto', 'HOST:6379' or 'ray://HOST:10001'.")
    max_in_flight: int = Field(default=32, ge=1)
    shard_size: int | None = Field(default=None, ge=1, description="Probes per task; unset: one task per run.")
    max_retries: int = Field(default=2, ge=0, description="Ray's retries of a task whose worker or node was lost.")
    cpus_per_task: float = Field(default=1.0, ge=0)
    heartbeat_s: float = Field(default=5.0, gt=0)
    stale_after_s: float = Field(default=30.0, gt=0)
    worker_data_dir: Path | None = Field(
        default=None, description="Where tasks keep snapshots on their node; unset: DRIFT_MONITOR_DATA_DIR."
    )

    @model_validator(mode="after")
    def _ray_needs_address(self) -> ExecutorConfig:
        if self.kind == "ray" and not self.address:
            raise ValueError("kind 'ray' needs address = the cluster ('auto', 'HOST:6379' or 'ray://HOST:10001')")
        if self.stale_after_s <= 2 * self.heartbeat_s:
            raise ValueError("stale_after_s must be more than twice heartbeat_s (a late heartbeat is not a death)")
        return self


class MonitorConfig(_Strict):
    """The whole TOML file."""

    models: list[WatchedModelConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    webhook_secret_env: str = Field(
        default="DRIFT_MONITOR_WEBHOOK_SECRET",
        description="Name of the environment variable holding the Hub webhook secret (never the secret).",
    )

    @field_validator("models")
    @classmethod
    def _unique_repos(cls, models: list[WatchedModelConfig]) -> list[WatchedModelConfig]:
        seen: set[str] = set()
        for model in models:
            if model.repo in seen:
                raise ValueError(f"repo {model.repo!r} is listed twice")
            seen.add(model.repo)
        return models


def default_model_name(repo: str, source: str) -> str:
    """What a watched model is called without a configured ``name``: its Hub id, or a git folder's last part."""
    if source == "git":
        last = repo.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".git")
        return last or repo
    return repo


def load_settings() -> Settings:
    """Read settings from the environment, turning validation errors into one ConfigError line."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc, prefix="DRIFT_MONITOR_")) from None


def load_config(path: Path | None) -> MonitorConfig:
    """Load and validate the TOML config; no path means an empty config (nothing watched yet)."""
    if path is None:
        return MonitorConfig()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (set DRIFT_MONITOR_CONFIG to a TOML file)") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory (set DRIFT_MONITOR_CONFIG to a TOML file)") from None
    except OSError as exc:  # not a directory on the way, permission denied, an I/O error
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror or exc} "
            "(set DRIFT_MONITOR_CONFIG to a readable TOML file)"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        return MonitorConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"config file {path}: {_describe(exc, raw=raw)}") from None


def _describe(exc: ValidationError, *, prefix: str = "", raw: Any = None) -> str:
    """One line naming the first bad key, its value and why it was refused."""
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    value = _lookup(raw, error["loc"]) if raw is not None else error.get("input")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"unknown key {location!r}"
    if error["type"] == "missing":
        return f"missing key {location!r}"
    return f"{prefix}{location} = {value!r}: {message}"


def _lookup(raw: Any, loc: tuple[Any, ...]) -> Any:
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node
