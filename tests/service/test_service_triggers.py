from __future__ import annotations

import datetime as dt

import pytest

from monitor.config import ScheduleConfig
from monitor.errors import ConfigError
from monitor.service import poll_trigger


def test_crontab_weekdays_follow_the_standard_not_apscheduler3() -> None:
    trigger = poll_trigger(ScheduleConfig(cron="30 6 * * 1", jitter_seconds=0))
    # 2026-01-01 is a Thursday; crontab weekday 1 is Monday -> 2026-01-05 06:30 UTC.
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert trigger.get_next_fire_time(None, start) == dt.datetime(2026, 1, 5, 6, 30, tzinfo=dt.UTC)
    weekend = poll_trigger(ScheduleConfig(cron="0 0 * * 0,6", jitter_seconds=0))
    assert weekend.get_next_fire_time(None, start) == dt.datetime(2026, 1, 3, 0, 0, tzinfo=dt.UTC)  # Saturday
    workdays = poll_trigger(ScheduleConfig(cron="0 12 * * 1-5", jitter_seconds=0))
    assert workdays.get_next_fire_time(None, dt.datetime(2026, 1, 3, tzinfo=dt.UTC)) == dt.datetime(
        2026, 1, 5, 12, 0, tzinfo=dt.UTC
    )


def test_interval_with_jitter_and_bad_cron() -> None:
    trigger = poll_trigger(ScheduleConfig(interval_minutes=15, jitter_seconds=60))
    start = trigger.start_date
    following = [trigger.get_next_fire_time(start, start) for _ in range(20)]
    offsets = [(fire - start).total_seconds() - 15 * 60 for fire in following if fire is not None]
    assert len(offsets) == 20 and all(0 <= offset <= 60 for offset in offsets)
    assert len(set(offsets)) > 1  # jittered
    with pytest.raises(ConfigError, match=r"schedule\.cron"):
        poll_trigger(ScheduleConfig(cron="61 * * * *"))
