"""The openai engine through the real ``openai`` SDK against a loopback server running the real SmolLM2."""

from __future__ import annotations

import time

import pytest

from monitor.engines import EngineSpec, GenerationRequest, Message, OpenAIEngine, Sampling, build_engine
from monitor.errors import EngineError
from tests.engines._openai_server import OpenAICompatibleServer
from tests.engines.conftest import SERVED_ID

pytestmark = pytest.mark.slow

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def _request(probe: str = "capital", index: int = 0, *, temperature: float = 0.0, seed: int = 5, max_tokens: int = 6):
    return GenerationRequest(
        probe,
        index,
        (Message("user", "What is the capital of France?"),),
        Sampling(temperature=temperature, top_p=0.9, max_tokens=max_tokens),
        seed,
    )


def _engine(server: OpenAICompatibleServer, **options: object) -> OpenAIEngine:
    return OpenAIEngine("prod-chat", base_url=server.base_url, served_model=SERVED_ID, **{**FAST, **options})  # type: ignore[arg-type]


def test_generates_with_the_real_model_and_sends_our_sampling(loopback: OpenAICompatibleServer) -> None:
    engine = build_engine(
        EngineSpec(kind="openai", model="prod-chat", options={"base_url": loopback.base_url, "served_model": SERVED_ID})
    )
    (generation,) = engine.generate([_request()])
    assert "Paris" in generation.text
    assert generation.finish_reason in ("stop", "length")
    assert generation.prompt_tokens and generation.prompt_tokens > 5
    assert generation.completion_tokens and 1 <= generation.completion_tokens <= 6
    assert generation.reasoning is None
    (models, chat) = loopback.requests
    assert models.method == "GET" and models.path == "/v1/models"
    body = chat.body
    assert body["model"] == SERVED_ID and body["seed"] == 5 and body["max_tokens"] == 6
    assert (body["temperature"], body["top_p"]) == (0.0, 0.9)
    assert body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    assert engine.kind == "openai" and engine.device == f"endpoint: {loopback.base_url}"
    engine.close()


def test_n_greater_than_one_in_one_request(loopback: OpenAICompatibleServer) -> None:
    engine = _engine(loopback, group_samples=True)
    requests = [_request("capital", i, temperature=0.9, seed=40 + i, max_tokens=4) for i in range(3)]
    generations = sorted(engine.generate(requests), key=lambda g: g.sample_index)
    assert [g.sample_index for g in generations] == [0, 1, 2]
    (chat,) = loopback.chat_requests()
    assert chat.body["n"] == 3 and chat.body["seed"] == 40
    assert all(g.text for g in generations)


def test_server_ignoring_n_gets_the_rest_one_by_one(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.drop_n = True  # llama.cpp and Ollama answer n > 1 with one choice
    engine = _engine(loopback, group_samples=True)
    requests = [_request("capital", i, temperature=0.9, seed=40 + i, max_tokens=3) for i in range(3)]
    generations = list(engine.generate(requests))
    assert sorted(g.sample_index for g in generations) == [0, 1, 2]
    assert [r.body.get("n") for r in loopback.chat_requests()] == [3, None, None]
    assert [r.body["seed"] for r in loopback.chat_requests()] == [40, 41, 42]


def test_429_is_retried_after_the_servers_retry_after(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.rate_limit = 2
    loopback.faults.retry_after = "0.4"
    # Our own backoff would wait 5 s then 10 s: finishing in well under that proves Retry-After was used.
    engine = _engine(loopback, backoff_base_s=5.0, backoff_max_s=30.0)
    started = time.monotonic()
    (generation,) = engine.generate([_request(max_tokens=3)])
    elapsed = time.monotonic() - started
    assert generation.text
    assert len(loopback.chat_requests()) == 3
    assert 0.8 <= elapsed < 4.5


def test_500_is_retried_and_then_reported(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.server_error = 1
    engine = _engine(loopback, max_retries=2)
    (generation,) = engine.generate([_request(max_tokens=3)])
    assert generation.text and len(loopback.chat_requests()) == 2

    loopback.faults.server_error = 10
    with pytest.raises(EngineError, match=r"failed after 3 attempts, last: 500 server error"):
        list(engine.generate([_request(max_tokens=3)]))
    assert len(loopback.chat_requests()) == 2 + 3


def test_timeout_is_retried_then_reported(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.delay_s = 1.5
    engine = _engine(loopback, timeout_s=0.3, max_retries=1)
    started = time.monotonic()
    with pytest.raises(EngineError, match=r"failed after 2 attempts, last: timed out"):
        list(engine.generate([_request()]))
    assert time.monotonic() - started < 1.5

    slow_but_in_time = _engine(loopback, timeout_s=5.0, check_model=False)
    loopback.faults.delay_s = 0.2
    (generation,) = slow_but_in_time.generate([_request()])
    assert generation.text == "a slow answer"


@pytest.mark.parametrize("kind", ["not_json", "no_choices"])
def test_malformed_body_is_named(loopback: OpenAICompatibleServer, kind: str) -> None:
    loopback.faults.malformed = kind
    engine = _engine(loopback)
    with pytest.raises(EngineError, match="malformed body"):
        list(engine.generate([_request()]))
    assert len(loopback.chat_requests()) == 1, "a malformed answer is not retried: it is a server bug, not a blip"


def test_model_id_mismatch_names_what_is_served(smollm_engine: object) -> None:
    with OpenAICompatibleServer({"llama-3-8b": smollm_engine, "qwen2": smollm_engine}) as server:  # type: ignore[dict-item]
        with pytest.raises(
            EngineError, match=r"does not serve model 'smollm2-135m-instruct'; it serves 'llama-3-8b', 'qwen2'"
        ):
            _engine(server)
        assert [r.path for r in server.requests] == ["/v1/models"]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_split_by_the_server_is_kept_apart(loopback: OpenAICompatibleServer, field: str) -> None:
    loopback.faults.reasoning_field = field
    (generation,) = _engine(loopback).generate([_request(max_tokens=3)])
    assert generation.reasoning == "The user asked: What is the capital of France?"
    assert generation.text and "The user asked" not in generation.text


def test_api_key_comes_from_the_named_variable_and_is_never_shown(
    smollm_engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-loopback-0123456789"
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}, api_key=secret) as server:  # type: ignore[dict-item]
        monkeypatch.delenv("ACME_LLM_KEY", raising=False)
        with pytest.raises(EngineError, match="set the environment variable ACME_LLM_KEY") as refused:
            _engine(server, api_key_env="ACME_LLM_KEY")
        monkeypatch.setenv("ACME_LLM_KEY", secret)
        engine = _engine(server, api_key_env="ACME_LLM_KEY")
        (generation,) = engine.generate([_request(max_tokens=2)])
        assert generation.text
        assert server.requests[-1].authorization == f"Bearer {secret}"
        assert secret not in str(refused.value) and secret not in repr(engine) and secret not in str(vars(engine))


def test_a_server_that_refuses_seed_is_asked_without_one(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.refuse_seed = True
    engine = _engine(loopback)
    first, second = engine.generate([_request("a", max_tokens=2), _request("b", max_tokens=2)])
    assert first.text and second.text
    assert "seed" in loopback.chat_requests()[0].body
    assert "seed" not in loopback.chat_requests()[-1].body


def test_concurrency_limit_bounds_requests_in_flight(loopback: OpenAICompatibleServer) -> None:
    loopback.faults.delay_s = 0.4  # canned answers: this measures the client, not the model
    requests = [_request(f"p{i}") for i in range(4)]
    started = time.monotonic()
    assert len(list(_engine(loopback, concurrency=4).generate(requests))) == 4
    parallel = time.monotonic() - started
    started = time.monotonic()
    assert len(list(_engine(loopback, concurrency=1).generate(requests))) == 4
    serial = time.monotonic() - started
    assert parallel < 1.2 <= serial


def test_unknown_option_is_named() -> None:
    with pytest.raises(EngineError, match="unknown openai engine option 'concurency'"):
        build_engine(
            EngineSpec(kind="openai", model="m", options={"base_url": "http://127.0.0.1:9/v1", "concurency": 2})
        )


def test_unreachable_server_is_reported_after_retries() -> None:
    with pytest.raises(EngineError, match=r"GET /models failed after 2 attempts, last: connection failed"):
        OpenAIEngine("m", base_url="http://127.0.0.1:9/v1", max_retries=1, **FAST)  # type: ignore[arg-type]
