"""The cycle, as plain functions over a database session."""

from monitor.pipeline._poll import (
    BackgroundPoller,
    ChangeRecord,
    OnChange,
    OnFailure,
    PollResult,
    alert_callbacks,
    hub_cache_dir,
    poll_model,
    poll_watched,
)

__all__ = [
    "BackgroundPoller",
    "ChangeRecord",
    "OnChange",
    "OnFailure",
    "PollResult",
    "alert_callbacks",
    "hub_cache_dir",
    "poll_model",
    "poll_watched",
]
