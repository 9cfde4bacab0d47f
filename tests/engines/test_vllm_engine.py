"""The vllm engine against a strict stand-in ``vllm`` (tests/engines/fake_vllm): vLLM itself needs a GPU.

The stand-in has vLLM's signatures and rejects unknown arguments, so these tests check that our calls
are ones vLLM accepts, and that its outputs map back to our generations.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from monitor.engines import EngineSpec, GenerationRequest, Message, Sampling, VLLMEngine, build_engine
from monitor.errors import EngineError

FAKE_VLLM = Path(__file__).parent / "fake_vllm"
SHA = "a" * 40


def _forget_vllm() -> None:
    for name in [n for n in sys.modules if n == "vllm" or n.startswith("vllm.")]:
        del sys.modules[name]


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Put the stand-in on sys.path, freshly imported by the engine (it reads the env at import)."""
    monkeypatch.delenv("VLLM_BATCH_INVARIANT", raising=False)
    monkeypatch.syspath_prepend(str(FAKE_VLLM))
    _forget_vllm()
    yield
    _forget_vllm()


def _vllm() -> ModuleType:
    return sys.modules["vllm"]


def _calls(kind: str) -> list[dict[str, Any]]:
    return [args for name, args in _vllm().CALLS if name == kind]


def _request(probe: str, index: int, text: str, *, temperature: float = 0.6, max_tokens: int = 50, seed: int = 0):
    sampling = Sampling(temperature=temperature, top_p=0.95, max_tokens=max_tokens)
    return GenerationRequest(probe, index, (Message("system", "Be brief."), Message("user", text)), sampling, seed)


def test_missing_vllm_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm -> ImportError
    with pytest.raises(EngineError, match=r"pip install 'drift-monitor\[vllm\]' on a GPU host"):
        VLLMEngine("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", SHA)


def test_loads_the_revision_pinned_with_safe_defaults(fake_vllm: None) -> None:
    engine = build_engine(
        EngineSpec(
            kind="vllm",
            model="deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            revision=SHA,
            options={"dtype": "bfloat16", "max_model_len": 8192, "gpu_memory_utilization": 0.85, "seed": 7},
        )
    )
    assert isinstance(engine, VLLMEngine)
    (load,) = _calls("LLM")
    assert load["model"] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    assert load["revision"] == SHA and load["tokenizer_revision"] == SHA
    assert load["trust_remote_code"] is False
    assert load["enable_prefix_caching"] is False
    assert load["load_format"] == "safetensors"
    assert (load["dtype"], load["max_model_len"], load["gpu_memory_utilization"], load["seed"]) == (
        "bfloat16",
        8192,
        0.85,
        7,
    )
    assert load["env_batch_invariant"] is None
    assert engine.version == "vllm 0.33.0+fake"
    assert engine.device == "cuda: NVIDIA H100 80GB HBM3 (fake)"


def test_one_sampling_params_per_request_and_outputs_mapped_back(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA)
    requests = [
        _request("who", 0, "Who are you?", seed=11),
        _request("who", 1, "Who are you?", seed=12),
        _request("sum", 0, "What is 2+2?", temperature=0.0, max_tokens=3, seed=13),
    ]
    generations = list(engine.generate(requests))

    (chat,) = _calls("chat")
    assert chat["use_tqdm"] is False
    assert chat["conversations"][0] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Who are you?"},
    ]
    params = chat["sampling_params"]
    assert [(p.n, p.seed, p.temperature, p.top_p, p.max_tokens) for p in params] == [
        (1, 11, 0.6, 0.95, 50),
        (1, 12, 0.6, 0.95, 50),
        (1, 13, 0.0, 1.0, 3),  # vLLM sets top_p = 1 when greedy
    ]
    by_key = {(g.probe_id, g.sample_index): g for g in generations}
    assert set(by_key) == {("who", 0), ("who", 1), ("sum", 0)}
    who = by_key[("who", 1)]
    assert who.text == "reply seed=12 sample=0 temperature=0.6 to: Who are you?"
    assert who.finish_reason == "stop" and who.completion_tokens == 8
    assert who.prompt_tokens == 5 + 5  # the stand-in counts the conversation's words, plus 5
    assert who.reasoning is None  # the offline API returns raw text; the split is the analysis step's
    truncated = by_key[("sum", 0)]
    assert truncated.text == "reply seed=13 sample=0" and truncated.finish_reason == "length"
    assert truncated.completion_tokens == 3


def test_batches_are_chunks_of_batch_size_and_stream(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA, batch_size=2)
    requests = [_request(f"p{i}", 0, f"question {i}", seed=i) for i in range(5)]
    stream = engine.generate(requests)
    first = [next(stream), next(stream)]
    assert len(_calls("chat")) == 1, "the first chunk is yielded before the next is generated"
    rest = list(stream)
    assert [len(c["conversations"]) for c in _calls("chat")] == [2, 2, 1]
    assert sorted(g.probe_id for g in first + rest) == [f"p{i}" for i in range(5)]


def test_group_samples_sends_n_with_the_first_seed(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA, group_samples=True)
    requests = [_request("who", i, "Who are you?", seed=100 + i) for i in (2, 0, 1, 3)]
    generations = list(engine.generate(requests))
    (chat,) = _calls("chat")
    (params,) = chat["sampling_params"]
    assert (params.n, params.seed) == (4, 100)
    assert sorted(g.sample_index for g in generations) == [0, 1, 2, 3]
    assert {g.text.split()[2] for g in generations} == {"sample=0", "sample=1", "sample=2", "sample=3"}


def test_batch_invariant_is_set_before_vllm_is_imported(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA, batch_invariant=True, prefix_caching=True)
    assert _vllm().IMPORT_ENV == "1"
    (load,) = _calls("LLM")
    assert load["env_batch_invariant"] == "1" and load["enable_prefix_caching"] is True
    assert engine.version.startswith("vllm ")


def test_batch_invariant_refused_once_vllm_was_imported_without_it(fake_vllm: None) -> None:
    VLLMEngine("org/model", SHA)  # imports vllm with the variable unset
    with pytest.raises(EngineError, match="fresh worker process"):
        VLLMEngine("org/model", SHA, batch_invariant=True)


def test_aborted_output_is_an_error_generation(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA)
    (generation,) = engine.generate([_request("x", 0, "ABORT please")])
    assert generation.finish_reason == "error"


def test_a_local_snapshot_folder_is_loaded_as_is(fake_vllm: None, tmp_path: Path) -> None:
    engine = VLLMEngine(str(tmp_path), SHA)
    (load,) = _calls("LLM")
    assert load["model"] == str(tmp_path) and load["revision"] is None and load["tokenizer_revision"] is None
    assert engine.version.startswith("vllm ")


def test_allow_pickle_lets_vllm_choose_the_format(fake_vllm: None) -> None:
    VLLMEngine("org/model", SHA, allow_pickle=True)
    assert _calls("LLM")[0]["load_format"] == "auto"


def test_bad_options_fail_before_loading(fake_vllm: None) -> None:
    with pytest.raises(EngineError, match="unknown vllm engine option 'gpu_mem'"):
        build_engine(EngineSpec(kind="vllm", model="org/model", revision=SHA, options={"gpu_mem": 0.5}))
    with pytest.raises(EngineError, match="dtype"):
        VLLMEngine("org/model", SHA, dtype="fp4")
    assert "vllm" not in sys.modules, "options are checked before vLLM is even imported"


def test_the_stand_in_is_as_strict_as_vllm(fake_vllm: None) -> None:
    """The stand-in rejects what vLLM rejects, with vLLM's classes (tests/engines/test_fake_vllm.py checks more)."""
    import vllm
    from vllm.exceptions import VLLMValidationError

    with pytest.raises(TypeError, match="unexpected keyword argument 'max_len'"):
        vllm.LLM(model="m", max_len=10)
    with pytest.raises(TypeError):
        vllm.LLM(model="m", revison="abc")  # a typo of a named parameter
    with pytest.raises(TypeError):
        vllm.SamplingParams(temprature=0.5)
    with pytest.raises(VLLMValidationError, match="top_p"):
        vllm.SamplingParams(top_p=0.0)
    llm = vllm.LLM(model="m")
    conversation = [{"role": "user", "content": "hi"}]
    with pytest.raises(VLLMValidationError, match="lengths of prompts"):
        llm.chat([conversation, conversation], sampling_params=[vllm.SamplingParams()])
    with pytest.raises(TypeError):
        llm.chat([conversation], sampling_parameters=[vllm.SamplingParams()])


def test_greedy_samples_under_group_samples_are_separate_requests(fake_vllm: None) -> None:
    """Finding 1: temperature 0 with n > 1 is refused by vLLM; n greedy requests are what the suite meant."""
    engine = VLLMEngine("org/model", SHA, group_samples=True)
    requests = [_request("who", i, "Who are you?", temperature=0.0, seed=100 + i) for i in range(3)]
    generations = list(engine.generate(requests))
    (chat,) = _calls("chat")
    assert [(p.n, p.temperature) for p in chat["sampling_params"]] == [(1, 0.0)] * 3
    assert sorted(g.sample_index for g in generations) == [0, 1, 2]


def test_temperatures_vllm_refuses_or_changes_are_engine_errors(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA)
    with pytest.raises(EngineError, match=r"probe 'x': temperature 2.5 is above vLLM's limit of 2"):
        list(engine.generate([_request("x", 0, "hi", temperature=2.5)]))
    with pytest.raises(EngineError, match=r"below vLLM's minimum of 0\.01"):
        list(engine.generate([_request("x", 0, "hi", temperature=0.005)]))
    assert _calls("chat") == []


def test_vllm_request_errors_become_engine_errors_with_the_reason(fake_vllm: None, tmp_path: Path) -> None:
    """Finding 2: VLLMValidationError / ChatTemplateResolutionError are not ValueErrors; they are mapped."""
    (tmp_path / "tokenizer_config.json").write_text("{}")  # a base model: no chat template
    engine = VLLMEngine(str(tmp_path), SHA)
    with pytest.raises(EngineError, match="vLLM failed to generate: ChatTemplateResolutionError: As of transformers"):
        list(engine.generate([_request("x", 0, "hi")]))


def test_a_prompt_too_long_is_named_with_both_numbers_before_generating(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA, max_model_len=60)
    long = _request("long", 0, " ".join(["word"] * 60), max_tokens=8)
    with pytest.raises(
        EngineError, match=r"probe 'long': its prompt is 67 tokens and the vllm engine's max_model_len is 60"
    ):
        list(engine.generate([_request("short", 0, "hi", max_tokens=8), long]))
    assert _calls("chat") == [], "nothing was generated"


def test_max_tokens_that_do_not_fit_max_model_len_are_refused(fake_vllm: None) -> None:
    engine = VLLMEngine("org/model", SHA, max_model_len=8192)
    with pytest.raises(EngineError, match="max_tokens = 32768 does not fit the vllm engine's max_model_len = 8192"):
        list(engine.generate([_request("x", 0, "hi", max_tokens=32768)]))


def test_an_exported_batch_invariant_does_not_take_effect_when_the_option_is_off(
    fake_vllm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 5: the run records batch_invariant = false, so vLLM must not run batch-invariant."""
    monkeypatch.setenv("VLLM_BATCH_INVARIANT", "1")
    VLLMEngine("org/model", SHA)
    (load,) = _calls("LLM")
    assert load["env_batch_invariant"] is None


def test_latency_is_each_requests_own(fake_vllm: None) -> None:
    """Finding 5: not the whole chunk's wall time stamped on every generation."""
    engine = VLLMEngine("org/model", SHA)
    requests = [_request("a", 0, "hi", max_tokens=2), _request("b", 0, "hi", max_tokens=40)]
    by_probe = {g.probe_id: g for g in engine.generate(requests)}
    assert _calls("LLM")[0]["disable_log_stats"] is False
    # The stand-in's metrics: 1 ms per output token after scheduling.
    assert by_probe["a"].latency_s == pytest.approx(0.002)
    assert by_probe["b"].latency_s == pytest.approx(0.001 * by_probe["b"].completion_tokens)  # type: ignore[operator]
