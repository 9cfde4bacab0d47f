"""The long-running service: the pipeline's steps on a schedule, under one lease, behind one HTTP port.

- ``_lifecycle``: ``Service`` (``serve`` and ``once``), its jobs, signals and graceful stop;
- ``_lease``: one service per database, liveness from the heartbeat;
- ``_metrics``: Prometheus metrics, fed as the cycle's observer;
- ``_http``: ``/healthz``, ``/metrics`` and the mounted webhook;
- ``_jobs``: the jobs in flight, counted for the graceful stop;
- ``_schedule``: poll triggers (standard crontab or interval, UTC, with jitter).
"""

from monitor.service._http import http_app, serve_http
from monitor.service._lease import (
    LEASE_NAME,
    acquire_lease,
    lease_holder,
    lease_owner,
    release_lease,
    renew_lease,
)
from monitor.service._lifecycle import DEFAULT_PORT, Service, ServiceOptions
from monitor.service._metrics import ServiceMetrics
from monitor.service._schedule import poll_trigger

__all__ = [
    "DEFAULT_PORT",
    "LEASE_NAME",
    "Service",
    "ServiceMetrics",
    "ServiceOptions",
    "acquire_lease",
    "http_app",
    "lease_holder",
    "lease_owner",
    "poll_trigger",
    "release_lease",
    "renew_lease",
    "serve_http",
]
