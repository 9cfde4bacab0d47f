"""Every error a user can cause or fix, under one base class.

The CLI turns any ``MonitorError`` into one red line and a non-zero exit; anything else is a bug and
keeps its traceback. Messages say what went wrong *and* what to do about it.

Hierarchy::

    MonitorError
    ├── ConfigError            bad TOML, bad setting, unknown key or value
    ├── DatabaseError          unreachable database, schema not migrated, disk full while writing
    ├── ProbeSuiteError        a suite file that does not validate (names file, probe id, field)
    ├── UnknownSuiteError      a suite name that is not installed
    ├── ModelNotFoundError     a path that is not a model, a repo or revision that does not exist
    ├── EngineError            the engine failed to load or generate; the worker died or timed out
    ├── ExecutorError          the executor cannot run: Ray missing or unreachable, a store Ray cannot share
    ├── HubError               the Hub (or a git source) could not be polled
    ├── InputError             malformed user input files (JSONL, YAML) with line numbers
    ├── AnalysisError          a classifier or embedding model that cannot be loaded or trained
    ├── ComparisonError        two response sets that cannot be compared like with like
    ├── AlertError             an alert channel that cannot be configured or reached
    └── ServiceError           the service cannot start (another instance holds the lock, ...)
        └── RunClaimedError    another live process is generating this run (its claim's heartbeat is fresh)
"""

from __future__ import annotations

from monitor._redact import redact

__all__ = [
    "AlertError",
    "AnalysisError",
    "ComparisonError",
    "ConfigError",
    "DatabaseError",
    "EngineError",
    "ExecutorError",
    "HubError",
    "InputError",
    "ModelNotFoundError",
    "MonitorError",
    "ProbeSuiteError",
    "RunClaimedError",
    "ServiceError",
    "UnknownSuiteError",
]


class MonitorError(Exception):
    """Base class: a problem the user can act on, reported without a traceback.

    The message is redacted as it is made (``monitor._redact``): an error names a git URL, a channel or a
    database, and it travels into rows, logs, alerts and JSON output, so it never carries a credential.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(MonitorError):
    """The configuration file or an environment setting is invalid."""


class DatabaseError(MonitorError):
    """The database cannot be reached, migrated or written."""


class ProbeSuiteError(MonitorError):
    """A probe suite file does not validate."""


class UnknownSuiteError(MonitorError):
    """A suite name that is neither installed nor a file."""


class ModelNotFoundError(MonitorError):
    """A model path, repository or revision that does not exist."""


class EngineError(MonitorError):
    """An engine failed to load a model or to generate."""


class ExecutorError(MonitorError):
    """The configured executor cannot run tasks (missing extra, unreachable cluster, unsuitable database)."""


class HubError(MonitorError):
    """A revision source could not be polled."""


class InputError(MonitorError):
    """A user-supplied input file is malformed."""


class AnalysisError(MonitorError):
    """Analysis models cannot be loaded, trained or applied."""


class ComparisonError(MonitorError):
    """Two sets of runs cannot be compared like with like."""


class AlertError(MonitorError):
    """An alert channel is misconfigured or unreachable."""


class ServiceError(MonitorError):
    """The long-running service cannot start or continue."""


class RunClaimedError(ServiceError):
    """Another live process supervises this run's worker: wait for it, or for its claim to go stale."""
