"""The long-running service: the pipeline's steps on a schedule, under one lease, behind one HTTP port.

- ``_lifecycle``: ``Service`` (``serve`` and ``once``), its jobs, signals and graceful stop;
- ``_jobs``: the jobs in flight, counted for the graceful stop;
- ``_lease``: one service per database, liveness from the heartbeat;
- ``_metrics``: Prometheus metrics, fed as the cycle's observer;
- ``_http``: ``/healthz``, ``/metrics`` and the mounted webhook;
- ``_schedule``: poll triggers (standard crontab or interval, UTC, with jitter).

The names are imported on first use (PEP 562), so a command that only asks whether a service holds
the lease does not import the scheduler, the metrics and the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor._lazy import lazy_exports

if TYPE_CHECKING:
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

# Each public name and the module that defines it.
_EXPORTS = {
    "DEFAULT_PORT": "monitor.service._lifecycle",
    "LEASE_NAME": "monitor.service._lease",
    "Service": "monitor.service._lifecycle",
    "ServiceMetrics": "monitor.service._metrics",
    "ServiceOptions": "monitor.service._lifecycle",
    "acquire_lease": "monitor.service._lease",
    "http_app": "monitor.service._http",
    "lease_holder": "monitor.service._lease",
    "lease_owner": "monitor.service._lease",
    "poll_trigger": "monitor.service._schedule",
    "release_lease": "monitor.service._lease",
    "renew_lease": "monitor.service._lease",
    "serve_http": "monitor.service._http",
}

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


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
