"""The service's Prometheus metrics, in their own registry (served on ``/metrics``), fed as a cycle observer."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.alerts import DeliveryStats
from monitor.db import Alert, Database
from monitor.pipeline import CycleObserver, PollResult, RunOutcome

__all__ = ["ServiceMetrics"]


class ServiceMetrics(CycleObserver):
    """Prometheus metrics of one service, in their own registry (served on ``/metrics``)."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.polls = Counter("drift_monitor_polls", "Polls of watched models.", ["model", "outcome"], registry=r)
        self.poll_failures = Counter("drift_monitor_poll_failures", "Failed polls.", ["model"], registry=r)
        self.changes = Counter("drift_monitor_changes", "Changes found by polls.", ["model"], registry=r)
        self.run_duration = Histogram(
            "drift_monitor_run_duration_seconds",
            "Wall time of suite runs.",
            ["model", "suite", "status"],
            buckets=(5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, float("inf")),
            registry=r,
        )
        self.responses = Counter(
            "drift_monitor_responses_generated", "Responses generated and stored.", ["model"], registry=r
        )
        self.alerts_delivered = Counter(
            "drift_monitor_alerts_delivered", "Alert deliveries that succeeded.", ["channel"], registry=r
        )
        self.delivery_failures = Counter(
            "drift_monitor_alert_delivery_failures", "Alert delivery attempts that failed.", registry=r
        )
        self.alerts_pending = Gauge(
            "drift_monitor_alerts_pending", "Alerts not yet delivered to every channel.", registry=r
        )
        self.alerts_pending.set_function(lambda: _count_pending(db))
        self.registry.register(_TaskCollector(db))
        self.last_cycle = Gauge(
            "drift_monitor_last_process_timestamp_seconds", "When the process job last finished.", registry=r
        )

    def polled(self, repo_id: str, result: PollResult) -> None:
        """Count a poll and its changes."""
        self.polls.labels(repo_id, "ok" if result.ok else "failed").inc()
        if not result.ok:
            self.poll_failures.labels(repo_id).inc()
        self.changes.labels(repo_id).inc(len(result.changes))

    def run_finished(self, repo_id: str, suite: str, outcome: RunOutcome) -> None:
        """Record a run's duration under its final status."""
        self.run_duration.labels(repo_id, suite, outcome.status).observe(outcome.elapsed_s)

    def responses_stored(self, repo_id: str, count: int) -> None:
        """Count stored responses."""
        self.responses.labels(repo_id).inc(count)

    def delivered(self, stats: DeliveryStats) -> None:
        """Count deliveries per channel, and failed attempts."""
        for channel, count in stats.by_channel.items():
            self.alerts_delivered.labels(channel).inc(count)
        self.delivery_failures.inc(stats.failed)


class _TaskCollector(Collector):
    """Executor tasks per model and state, and per node, read from the database at each scrape.

    Read at scrape time rather than counted as events, so a restarted service (or one watching tasks
    another service submitted) reports the cluster's real state.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        """``drift_monitor_tasks{model,state}`` and ``drift_monitor_tasks_by_node{node,state}``."""
        from monitor.executors import task_counts, tasks_by_node

        by_model = GaugeMetricFamily(
            "drift_monitor_tasks", "Executor tasks (run shards) per model and state.", labels=["model", "state"]
        )
        by_node = GaugeMetricFamily(
            "drift_monitor_tasks_by_node", "Executor tasks per node they ran on, and state.", labels=["node", "state"]
        )
        try:
            counts, nodes = task_counts(self._db), tasks_by_node(self._db)
        except Exception:  # a scrape must never fail because the database is briefly busy
            counts, nodes = {}, {}
        for repo, states in counts.items():
            for state, count in states.items():
                by_model.add_metric([repo, state], count)
        for (node, state), count in nodes.items():
            by_node.add_metric([node, state], count)
        yield by_model
        yield by_node


def _count_pending(db: Database) -> float:
    try:
        with db.session() as session:
            count = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.status == "pending"))
        return float(count or 0)
    except Exception:  # a scrape must never fail because the database is briefly busy
        return float("nan")
