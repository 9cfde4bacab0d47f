"""Alerts: the outbox (rows written with the event that caused them), channels, and delivery with retries."""

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
