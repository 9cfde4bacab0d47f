"""The endpoint check step on both databases: fingerprint revisions, endpoint_changed events and alerts.

The loopback server runs the real SmolLM2 (and the same weights with another chat template); repeated
greedy requests are answered from its cache, so the lifecycle costs two real fingerprints per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.config import MonitorConfig, WatchedModelConfig
from monitor.db import Alert, ChangeEvent, Database, Poll, Revision, WatchedModel
from monitor.engines import EngineSpec, TransformersEngine
from monitor.errors import ConfigError
from monitor.pipeline import alert_callbacks, check_endpoint, endpoint_spec, sync_watched_models
from tests.engines._openai_server import OpenAICompatibleServer
from tests.engines.conftest import SERVED_ID

pytestmark = pytest.mark.slow

PROMPTS = (("capital", "What is the capital of France?"), ("identity", "Who are you? Answer in one sentence."))


@pytest.fixture
def server(smollm_engine: TransformersEngine) -> Iterator[OpenAICompatibleServer]:
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}, cache_greedy=True) as running:
        yield running


def _config(server: OpenAICompatibleServer, **options: Any) -> MonitorConfig:
    engine = {
        "kind": "openai",
        "options": {"base_url": server.base_url, "served_model": SERVED_ID, "backoff_base_s": 0.01, **options},
    }
    return MonitorConfig.model_validate(
        {"models": [{"repo": "acme/prod-chat", "source": "endpoint", "engine": engine}]}
    )


def _check(database: Database, model_id: int, **kwargs: Any) -> Any:
    on_change, on_failure = alert_callbacks(poll_failure_threshold=kwargs.pop("threshold", 3))
    return check_endpoint(
        database, model_id, prompts=PROMPTS, max_tokens=8, on_change=on_change, on_failure=on_failure, **kwargs
    )


def _rows(database: Database, table: Any) -> list[Any]:
    with database.session() as session:
        rows = list(session.scalars(sa.select(table).order_by(table.id)))
        session.expunge_all()
        return rows


def test_endpoint_lifecycle(
    database: Database, server: OpenAICompatibleServer, variant_engine: TransformersEngine, smollm_engine: object
) -> None:
    (model_id,) = sync_watched_models(database, _config(server))

    first = _check(database, model_id)
    assert (first.status, first.previous_sha, first.kinds) == ("first_seen", None, ("first_seen",))
    (revision,) = _rows(database, Revision)
    assert revision.sha == first.sha and revision.seq == 1
    assert revision.manifest["served_model"] == SERVED_ID and revision.manifest["base_url"] == server.base_url
    assert [e["prompt_id"] for e in revision.fingerprints["entries"]] == ["capital", "identity"]
    assert "Paris" in revision.fingerprints["entries"][0]["text"]
    assert _rows(database, Alert) == []  # a first sighting is not news

    again = _check(database, model_id)
    assert (again.status, again.sha, again.kinds) == ("unchanged", first.sha, ())
    assert len(_rows(database, Revision)) == 1 and len(_rows(database, ChangeEvent)) == 1

    server.serve({SERVED_ID: variant_engine})  # redeployed behind the same id, with another chat template
    changed = _check(database, model_id)
    assert changed.status == "changed" and changed.previous_sha == first.sha and changed.sha != first.sha
    assert changed.requests == 2 * len(PROMPTS), "a suspected change is confirmed by a second fingerprint"
    event = next(e for e in _rows(database, ChangeEvent) if e.id == changed.event_id)
    assert event.kinds == ["endpoint_changed"] and event.silent
    assert (event.from_sha, event.to_sha) == (first.sha, changed.sha)
    assert event.details["diff"]["text_changed"] and event.details["examples"]
    assert event.details["system_fingerprint"]["before"] != event.details["system_fingerprint"]["after"]
    (alert,) = _rows(database, Alert)
    assert alert.kind == "hub.endpoint_changed" and alert.payload["to_sha"] == changed.sha
    assert changed.to_json()["changes"][0]["kinds"] == ["endpoint_changed"]

    server.serve({SERVED_ID: smollm_engine})  # type: ignore[dict-item]  # rolled back
    back = _check(database, model_id)
    assert back.status == "changed" and back.sha == first.sha
    assert len(_rows(database, Revision)) == 2, "the earlier model's revision is reused"
    with database.session() as session:
        model = session.get(WatchedModel, model_id)
        assert model is not None and model.head_sha == first.sha and model.consecutive_poll_failures == 0
    polls = _rows(database, Poll)
    assert [p.ok for p in polls] == [True] * 4 and [p.changes for p in polls] == [0, 0, 1, 1]


def test_failed_check_is_a_failed_poll_never_a_change(database: Database, server: OpenAICompatibleServer) -> None:
    (model_id,) = sync_watched_models(database, _config(server, max_retries=0))
    first = _check(database, model_id)
    server.faults.server_error = 100
    failed = _check(database, model_id, threshold=2)
    assert failed.status == "failed" and not failed.ok and "500" in (failed.error or "")
    assert failed.sha == first.sha
    assert _rows(database, Alert) == []
    _check(database, model_id, threshold=2)
    (alert,) = _rows(database, Alert)
    assert alert.kind == "poll.failed"
    assert [p.ok for p in _rows(database, Poll)] == [True, False, False]
    assert len(_rows(database, ChangeEvent)) == 1

    server.faults.server_error = 0
    recovered = _check(database, model_id)
    assert recovered.status == "unchanged"
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
