"""When the service's jobs run: poll triggers from a model's schedule (standard crontab or interval, UTC)."""

from __future__ import annotations

import datetime as dt

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.config import ScheduleConfig
from monitor.errors import ConfigError

__all__ = ["poll_trigger"]

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_weekdays(field: str) -> str:
    """Standard crontab weekdays (0 or 7 = Sunday) as names, since APScheduler 3 counts 0 as Monday."""
    items = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*" or not any(char.isdigit() for char in base):
            items.append(item)
            continue
        low, _, high = base.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ConfigError(f"cron weekday {item!r} is not understood; use 0-7 or names like mon-fri")
        start, end = int(low), int(high) if high else int(low)
        if not high and not step:
            items.append(_WEEKDAYS[start % 7])
            continue
        end = end if high else 7
        days = list(range(start, end + 1))[:: int(step) if step else 1]
        items.extend(_WEEKDAYS[day % 7] for day in days)
    return ",".join(dict.fromkeys(items))


def poll_trigger(schedule: ScheduleConfig) -> BaseTrigger:
    """The poll trigger of a schedule: its cron (standard crontab, UTC) or its interval, with jitter."""
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        minute, hour, day, month, weekday = schedule.cron.split()
        try:
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=_crontab_weekdays(weekday),
                timezone=dt.UTC,
                jitter=jitter,
            )
        except ValueError as exc:
            raise ConfigError(f"schedule.cron = {schedule.cron!r}: {exc}") from None
    return IntervalTrigger(minutes=schedule.interval_minutes or 60, timezone=dt.UTC, jitter=jitter)
