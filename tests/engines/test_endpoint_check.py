"""Endpoint models polled by the cycle's poll step on both databases: fingerprint revisions, events, alerts.

The loopback server runs the real SmolLM2 (and the same weights with another chat template); repeated
greedy requests are answered from its cache, so the lifecycle costs two real fingerprints per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.config import MonitorConfig, WatchedModelConfig
from monitor.db import Alert, ChangeEvent, Database, Poll, Revision, WatchedModel
from monitor.engines import EngineSpec, TransformersEngine
from monitor.errors import ConfigError
from monitor.pipeline import CycleContext, EndpointSource, PollResult, endpoint_spec, poll_step, sync_watched_models
from tests.engines._openai_server import OpenAICompatibleServer
from tests.engines.conftest import SERVED_ID

pytestmark = pytest.mark.slow

PROMPTS = (("capital", "What is the capital of France?"), ("identity", "Who are you? Answer in one sentence."))


@pytest.fixture
def server(smollm_engine: TransformersEngine) -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}, cache_greedy=True) as running:
        yield running


def _config(server: OpenAICompatibleServer, threshold: int = 3, **options: Any) -> MonitorConfig:
    engine = {
        "kind": "openai",
        "options": {"base_url": server.base_url, "served_model": SERVED_ID, "backoff_base_s": 0.01, **options},
    }
    return MonitorConfig.model_validate(
        {
            "models": [{"repo": "acme/prod-chat", "source": "endpoint", "engine": engine}],
            "alerts": {"poll_failure_threshold": threshold},
        }
    )


def _check(database: Database, config: MonitorConfig, model_id: int, tmp_path: Any) -> PollResult:
    """One poll step with short fingerprints (the factory sets the prompts; the step does the rest)."""

    def source(model: WatchedModel) -> EndpointSource:
        return EndpointSource.for_model(database, model.id, config.models[0], prompts=PROMPTS, max_tokens=8)

    ctx = CycleContext(db=database, config=config, data_dir=tmp_path, source_factory=source)
    (result,) = poll_step(ctx, [model_id], trigger="schedule").polled
    return result


def _rows(database: Database, table: Any) -> list[Any]:
    with database.session() as session:
        rows = list(session.scalars(sa.select(table).order_by(table.id)))
        session.expunge_all()
        return rows


def _head(database: Database, model_id: int) -> str | None:
    with database.session() as session:
        model = session.get(WatchedModel, model_id)
        assert model is not None
        return model.head_sha


def test_endpoint_lifecycle(
    database: Database,
    server: OpenAICompatibleServer,
    variant_engine: TransformersEngine,
    smollm_engine: object,
    tmp_path: Path,
) -> None:
    config = _config(server)
    (model_id,) = sync_watched_models(database, config)

    first = _check(database, config, model_id, tmp_path)
    assert first.ok and first.ref == "main" and first.head is not None
    ((seen,),) = [first.changes]
    assert (seen.from_sha, seen.to_sha, seen.kinds) == (None, first.head, ("first_seen",))
    (revision,) = _rows(database, Revision)
    assert revision.sha == first.head and revision.seq == 1
    assert revision.manifest["served_model"] == SERVED_ID and revision.manifest["base_url"] == server.base_url
    assert [e["prompt_id"] for e in revision.fingerprints["entries"]] == ["capital", "identity"]
    assert "Paris" in revision.fingerprints["entries"][0]["text"]
    assert _rows(database, Alert) == []  # a first sighting is not news

    again = _check(database, config, model_id, tmp_path)
    assert (again.ok, again.head, again.changes, again.requests) == (True, first.head, (), len(PROMPTS))
    assert len(_rows(database, Revision)) == 1 and len(_rows(database, ChangeEvent)) == 1

    server.serve({SERVED_ID: variant_engine})  # redeployed behind the same id, with another chat template
    changed = _check(database, config, model_id, tmp_path)
    (change,) = changed.changes
    assert change.kinds == ("endpoint_changed",) and change.silent
    assert (change.from_sha, change.to_sha) == (first.head, changed.head) and changed.head != first.head
    assert changed.requests == 2 * len(PROMPTS), "a suspected change is confirmed by a second fingerprint"
    event = next(e for e in _rows(database, ChangeEvent) if e.id == change.event_id)
    assert event.kinds == ["endpoint_changed"] and event.silent
    assert event.details["diff"]["text_changed"] and event.details["examples"]
    assert event.details["system_fingerprint"]["before"] != event.details["system_fingerprint"]["after"]
    (alert,) = _rows(database, Alert)
    assert alert.kind == "hub.endpoint_changed" and alert.payload["to_sha"] == changed.head
    assert changed.to_json()["changes"][0]["kinds"] == ["endpoint_changed"]

    server.serve({SERVED_ID: smollm_engine})  # type: ignore[dict-item]  # rolled back
    back = _check(database, config, model_id, tmp_path)
    assert [c.kinds for c in back.changes] == [("endpoint_changed",)] and back.head == first.head
    assert len(_rows(database, Revision)) == 2, "the earlier model's revision is reused"
    with database.session() as session:
        model = session.get(WatchedModel, model_id)
        assert model is not None and model.head_sha == first.head and model.consecutive_poll_failures == 0
    polls = _rows(database, Poll)
    # Recorded like a Hub poll: the first sighting is a change of the poll, as for a first commit.
    assert [p.ok for p in polls] == [True] * 4 and [p.changes for p in polls] == [1, 0, 1, 1]


def test_failed_check_is_a_failed_poll_never_a_change(
    database: Database, server: OpenAICompatibleServer, tmp_path: Path
) -> None:
    config = _config(server, threshold=2, max_retries=0)
    (model_id,) = sync_watched_models(database, config)
    first = _check(database, config, model_id, tmp_path)
    server.faults.server_error = 100
    failed = _check(database, config, model_id, tmp_path)
    assert not failed.ok and "500" in (failed.error or "") and failed.changes == ()
    assert _head(database, model_id) == first.head
    assert _rows(database, Alert) == []
    _check(database, config, model_id, tmp_path)
    (alert,) = _rows(database, Alert)
    assert alert.kind == "poll.failed"
    assert [p.ok for p in _rows(database, Poll)] == [True, False, False]
    assert len(_rows(database, ChangeEvent)) == 1

    server.faults.server_error = 0
    recovered = _check(database, config, model_id, tmp_path)
    assert recovered.ok and recovered.changes == () and recovered.head == first.head
    with database.session() as session:
        model = session.get(WatchedModel, model_id)
        assert model is not None and model.consecutive_poll_failures == 0 and model.last_poll_error is None


def test_spec_comes_from_the_config_entry(server: OpenAICompatibleServer) -> None:
    config = _config(server)
    spec = endpoint_spec(config.models[0])
    assert spec == EngineSpec(kind="openai", model="acme/prod-chat", options=dict(config.models[0].engine.options))
    with pytest.raises(ConfigError, match=r"engine\.kind = 'openai'"):
        endpoint_spec(WatchedModelConfig(repo="x", source="endpoint"))
    with pytest.raises(ConfigError, match="base_url"):
        endpoint_spec(
            WatchedModelConfig.model_validate({"repo": "x", "source": "endpoint", "engine": {"kind": "openai"}})
        )
