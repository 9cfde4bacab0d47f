"""Alerts: the outbox (rows written with the event that caused them), channels, and delivery with retries.

The names are imported on first use (PEP 562): a poll writes its alerts with the outbox and the
rules, and does not import the channels and the delivery loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor._lazy import lazy_exports

if TYPE_CHECKING:
    from monitor.alerts._channels import (
        AlertChannel,
        AlertMessage,
        AppriseChannel,
        ConsoleChannel,
        FileChannel,
        build_channel,
        build_channels,
    )
    from monitor.alerts._delivery import DeliveryPolicy, DeliveryStats, deliver_pending, send_test
    from monitor.alerts._outbox import (
        SEVERITIES,
        Severity,
        acknowledge,
        dedup_key,
        list_alerts,
        raise_alert,
        severity_at_least,
    )
    from monitor.alerts._rules import (
        CHANGE_SEVERITY,
        DRIFT_FAMILIES,
        SECURITY_CHANGE_KINDS,
        change_alert,
        change_alert_key,
        drift_alerts,
        drift_family,
        poll_failure_alert,
        run_failed_alert,
        run_failed_key,
    )

# Each public name and the module that defines it.
_EXPORTS = {
    "AlertChannel": "monitor.alerts._channels",
    "AlertMessage": "monitor.alerts._channels",
    "AppriseChannel": "monitor.alerts._channels",
    "CHANGE_SEVERITY": "monitor.alerts._rules",
    "ConsoleChannel": "monitor.alerts._channels",
    "DRIFT_FAMILIES": "monitor.alerts._rules",
    "DeliveryPolicy": "monitor.alerts._delivery",
    "DeliveryStats": "monitor.alerts._delivery",
    "FileChannel": "monitor.alerts._channels",
    "SECURITY_CHANGE_KINDS": "monitor.alerts._rules",
    "SEVERITIES": "monitor.alerts._outbox",
    "Severity": "monitor.alerts._outbox",
    "acknowledge": "monitor.alerts._outbox",
    "build_channel": "monitor.alerts._channels",
    "build_channels": "monitor.alerts._channels",
    "change_alert": "monitor.alerts._rules",
    "change_alert_key": "monitor.alerts._rules",
    "dedup_key": "monitor.alerts._outbox",
    "deliver_pending": "monitor.alerts._delivery",
    "drift_alerts": "monitor.alerts._rules",
    "drift_family": "monitor.alerts._rules",
    "list_alerts": "monitor.alerts._outbox",
    "poll_failure_alert": "monitor.alerts._rules",
    "raise_alert": "monitor.alerts._outbox",
    "run_failed_alert": "monitor.alerts._rules",
    "run_failed_key": "monitor.alerts._rules",
    "send_test": "monitor.alerts._delivery",
    "severity_at_least": "monitor.alerts._outbox",
}

__all__ = [
    "CHANGE_SEVERITY",
    "DRIFT_FAMILIES",
    "SECURITY_CHANGE_KINDS",
    "SEVERITIES",
    "AlertChannel",
    "AlertMessage",
    "AppriseChannel",
    "ConsoleChannel",
    "DeliveryPolicy",
    "DeliveryStats",
    "FileChannel",
    "Severity",
    "acknowledge",
    "build_channel",
    "build_channels",
    "change_alert",
    "change_alert_key",
    "dedup_key",
    "deliver_pending",
    "drift_alerts",
    "drift_family",
    "list_alerts",
    "poll_failure_alert",
    "raise_alert",
    "run_failed_alert",
    "run_failed_key",
    "send_test",
    "severity_at_least",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
