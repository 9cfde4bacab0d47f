from __future__ import annotations

import io
import json
import logging

import pytest

from monitor._logging import configure_logging, log_event
from monitor.errors import ConfigError


@pytest.fixture
def restore_root() -> object:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_lines_keep_one_event_per_line(restore_root: object) -> None:
    stream = io.StringIO()
    configure_logging(json_lines=False, level="INFO", stream=stream)
    logger = logging.getLogger("monitor.test")
    log_event(logger, "run.failed", model="org/m", error="worker died\nsecond line", n=3)
    log_event(logger, "debug.hidden", level=logging.DEBUG)
    [line] = stream.getvalue().splitlines()
    assert " INFO    monitor.test run.failed model=org/m " in line
    assert 'error="worker died\\\\nsecond line"' in line and line.endswith(" n=3")


def test_json_lines_and_third_party_records(restore_root: object) -> None:
    stream = io.StringIO()
    configure_logging(json_lines=True, level="DEBUG", stream=stream)
    log_event(logging.getLogger("monitor.test"), "alert.delivered", alert=7, channel="mail")
    logging.getLogger("somelib").warning("plain %s message", "library")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("monitor.test").exception("job crashed")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert events[0]["event"] == "alert.delivered" and events[0]["alert"] == 7 and events[0]["level"] == "info"
    assert events[1] == {**events[1], "event": "plain library message", "logger": "somelib", "level": "warning"}
    assert events[2]["error"] == "ValueError: boom" and len(stream.getvalue().splitlines()) == 3
    # The scheduler's "still running, skipped" warning is intended behaviour with max_instances=1: dropped.
    logging.getLogger("apscheduler.scheduler").warning(
        'Execution of job "x" skipped: maximum number of running instances reached (1)'
    )
    assert len(stream.getvalue().splitlines()) == 3


def test_bad_level_is_a_config_error(restore_root: object) -> None:
    with pytest.raises(ConfigError, match="DRIFT_MONITOR_LOG_LEVEL"):
        configure_logging(level="LOUD")
