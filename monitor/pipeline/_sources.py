"""One model's poll in the cycle: pick its source (Hub, git, endpoint, or the context's factory), poll, record.

Every kind of model goes through ``poll_model``: the endpoint's source is an ``EndpointSource`` whose
head is its fingerprint, so recording, failure counting and alerting are the same for all of them.
"""

from __future__ import annotations

import contextlib

from monitor.db import WatchedModel
from monitor.errors import MonitorError, ServiceError
from monitor.hub import Commit, Manifest, RevisionSource
from monitor.pipeline._context import CycleContext
from monitor.pipeline._poll import OnChange, OnFailure, PollResult, poll_model
from monitor.pipeline._watched import model_config_for

__all__ = ["UnusableSource", "poll_one"]


def poll_one(
    ctx: CycleContext, model_id: int, *, trigger: str, callbacks: tuple[OnChange, OnFailure]
) -> PollResult:
    """Poll one watched model once; its change and failure alerts are written in the poll's transaction."""
    with ctx.db.session() as session:
        model = session.get(WatchedModel, model_id)
        if model is None:
            raise ServiceError(f"watched model {model_id} disappeared from the database")
        session.expunge(model)
    source: RevisionSource | None = ctx.source_factory(model) if ctx.source_factory is not None else None
    with contextlib.ExitStack() as stack:
        if source is None and model.source == "endpoint":
            from monitor.pipeline._endpoint import EndpointSource  # the engines: only for endpoint models

            try:
                endpoint = EndpointSource.for_model(ctx.db, model_id, model_config_for(model, ctx.config))
            except MonitorError as exc:  # a config entry without endpoint settings: a failed poll, recorded
                source = UnusableSource(exc, kind="endpoint")
            else:
                stack.callback(endpoint.close)
                source = endpoint
        on_change, on_failure = callbacks
        return poll_model(
            ctx.db, model, source, trigger=trigger, cache_dir=ctx.cache_dir, on_change=on_change, on_failure=on_failure
        )


class UnusableSource:
    """A source that cannot be used: every call raises why, so the poll records it as a failed poll.

    The cycle uses it for an endpoint whose settings are missing; tests use it for a Hub library that
    fails in a way that is not a ``MonitorError``.
    """

    requests = 0

    def __init__(self, error: BaseException, *, kind: str) -> None:
        self.error = error
        self.kind = kind

    def head(self, ref: str) -> str:
        raise self.error

    def commit(self, sha: str) -> Commit:
        raise self.error

    def commits_between(self, old: str | None, new: str) -> list[Commit]:
        raise self.error

    def tags(self) -> dict[str, str]:
        raise self.error

    def manifest(self, sha: str) -> Manifest:
        raise self.error

    def read_small_file(self, sha: str, path: str) -> bytes | None:
        raise self.error
