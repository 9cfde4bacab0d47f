"""The transformers engine on the real SmolLM2 model, on CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.engines import GenerationRequest, Message, Sampling, TransformersEngine
from monitor.errors import EngineError, ModelNotFoundError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(smollm2_dir: Path) -> Iterator[TransformersEngine]:
    """float32, where batching cannot change a row's logits: the batch-invariance claim is made for it."""
    loaded = TransformersEngine(smollm2_dir, device="cpu", dtype="float32", batch_size=4)
    yield loaded
    loaded.close()


def _request(
    probe: str, index: int, *, temperature: float = 0.6, max_tokens: int = 12, seed: int = 7
) -> GenerationRequest:
    return GenerationRequest(
        probe_id=probe,
        sample_index=index,
        messages=(Message("user", f"Tell me one fact about {probe}."),),
        sampling=Sampling(temperature=temperature, top_p=0.95, max_tokens=max_tokens),
        seed=seed,
    )


def test_generates_with_counts_finish_reason_and_latency(engine: TransformersEngine) -> None:
    results = list(engine.generate([_request("cats", 0, temperature=0.0), _request("dogs", 1)]))
    assert {(g.probe_id, g.sample_index) for g in results} == {("cats", 0), ("dogs", 1)}
    for generation in results:
        assert generation.text.strip()
        assert generation.prompt_tokens and generation.prompt_tokens > 5
        assert generation.completion_tokens is not None and 0 < generation.completion_tokens <= 12
        assert generation.finish_reason in ("stop", "length")
        assert generation.latency_s > 0
    assert engine.device == "cpu" and "transformers" in engine.version


def test_in_float32_a_sample_depends_on_its_seed_not_on_its_batch(engine: TransformersEngine) -> None:
    alone = next(iter(engine.generate([_request("owls", 1, seed=11)]))).text
    batch = [_request("owls", 1, seed=11), _request("bees", 2, seed=3), _request("a longer topic name here", 3)]
    together = {g.probe_id: g.text for g in engine.generate(batch)}
    assert together["owls"] == alone
    other_seed = next(iter(engine.generate([_request("owls", 1, seed=12)]))).text
    greedy = [next(iter(engine.generate([_request("owls", 0, temperature=0.0)]))).text for _ in range(2)]
    assert greedy[0] == greedy[1]
    assert next(iter(engine.generate([_request("owls", 1, seed=11)]))).text == alone  # the seed decides
    assert other_seed != alone  # sampling really samples: another seed, another sample


def test_length_limit_is_reported(engine: TransformersEngine) -> None:
    generation = next(iter(engine.generate([_request("the history of Rome", 0, temperature=0.0, max_tokens=3)])))
    assert generation.finish_reason == "length"
    assert generation.completion_tokens == 3


def test_uses_the_revisions_own_chat_template(engine: TransformersEngine) -> None:
    prompt = engine.prompt_text(_request("x", 0))
    assert "You are a helpful AI assistant named SmolLM" in prompt
    assert prompt.rstrip().endswith("assistant")


def test_refuses_what_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not a model directory"):
        TransformersEngine(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(EngineError, match="pickle weights"):
        TransformersEngine(tmp_path)


def test_automatic_batch_and_dtype_are_the_machines(smollm2_dir: Path) -> None:
    from monitor.engines import native_dtype

    auto = TransformersEngine(smollm2_dir, device="cpu")
    try:
        assert auto.dtype == native_dtype("cpu")
        requests = [_request(f"topic{i}", 1, seed=i, max_tokens=3) for i in range(10)]
        results = list(auto.generate(requests))
        assert sorted(g.probe_id for g in results) == sorted(r.probe_id for r in requests)
        # One batch for all ten (they fit): every generation shares the batch's latency.
        assert len({g.latency_s for g in results}) == 1
        # In the native dtype (bf16 on a CPU with AMX or AVX512-BF16) padding moves a row's logits in their
        # last bits, so a sample is reproducible for the same batch, not across batches.
        again = {g.probe_id: g.text for g in auto.generate(requests)}
        assert again == {g.probe_id: g.text for g in results}
    finally:
        auto.close()
