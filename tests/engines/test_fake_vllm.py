"""The stand-in vLLM against the table read from the real vllm 0.33.0 wheel (fake_vllm/vllm_signatures.json).

The engine tests are only as good as the stand-in: these tests fail when its signatures, defaults, checks
or exception classes differ from the vLLM release the table was read from (see read_signatures.py to
move both to a new release).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

FAKE_VLLM = Path(__file__).parent / "fake_vllm"
TABLE = json.loads((FAKE_VLLM / "vllm_signatures.json").read_text())


@pytest.fixture
def vllm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(FAKE_VLLM))
    for name in [n for n in sys.modules if n == "vllm" or n.startswith("vllm.")]:
        monkeypatch.delitem(sys.modules, name)
    import vllm

    yield vllm
    for name in [n for n in sys.modules if n == "vllm" or n.startswith("vllm.")]:
        del sys.modules[name]


def _source(value: Any) -> str | None:
    """A default as the table writes it (the source text of vLLM's default)."""
    if value is inspect.Parameter.empty or value is dataclasses.MISSING:
        return None
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    return repr(value)


def _parameters(function: Any) -> list[list[Any]]:
    return [
        [p.name, p.kind.name, _source(p.default)]
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


def test_the_table_is_dated_and_names_the_version_the_fake_models(vllm: ModuleType) -> None:
    assert TABLE["vllm_version"] == "0.33.0"
    assert TABLE["read_on"] >= "2026-12-01"
    assert vllm.__version__ == f"{TABLE['vllm_version']}+fake"


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ("LLM.__init__", "LLM.__init__"),
        ("LLM.chat", "LLM.chat"),
        ("LLM.get_tokenizer", "LLM.get_tokenizer"),
        ("RequestOutput.__init__", "RequestOutput.__init__"),
    ],
)
def test_call_signatures_match_vllm(vllm: ModuleType, entry: str, path: str) -> None:
    owner, name = path.split(".")
    assert _parameters(getattr(getattr(vllm, owner), name)) == TABLE[entry]


def test_output_and_sampling_fields_match_vllm(vllm: ModuleType) -> None:
    completion = [[f.name, _source(f.default)] for f in dataclasses.fields(vllm.CompletionOutput)]
    assert completion == TABLE["CompletionOutput fields"]
    sampling = [[f.name, _source(f.default)] for f in dataclasses.fields(vllm.SamplingParams)]
    assert sampling == TABLE["SamplingParams fields"]
    from vllm import sampling_params

    assert TABLE["SamplingParams constants"] == {
        "_SAMPLING_EPS": sampling_params._SAMPLING_EPS,
        "_MAX_TEMP": sampling_params._MAX_TEMP,
    }


def test_engine_args_and_load_formats_match_vllm(vllm: ModuleType) -> None:
    fake = sys.modules["vllm"]
    assert set(fake._ENGINE_ARGS) <= set(TABLE["EngineArgs fields"])
    assert "swap_space" not in TABLE["EngineArgs fields"]
    with pytest.raises(TypeError, match="swap_space"):
        vllm.LLM(model="m", swap_space=4)
    assert set(TABLE["load formats"]) == fake._LOAD_FORMATS


def test_exception_hierarchy_matches_vllm(vllm: ModuleType) -> None:
    from vllm import exceptions

    for name, bases in TABLE["exceptions"].items():
        assert [base.__name__ for base in getattr(exceptions, name).__bases__] == bases
    assert not issubclass(exceptions.VLLMValidationError, ValueError)


def test_sampling_checks_are_vllms(vllm: ModuleType) -> None:
    from vllm.exceptions import VLLMValidationError

    with pytest.raises(VLLMValidationError, match="n must be 1 when using greedy sampling, got 2"):
        vllm.SamplingParams(n=2, temperature=0.0)
    with pytest.raises(VLLMValidationError, match=r"temperature must be in \[0, 2\], got 2.5"):
        vllm.SamplingParams(temperature=2.5)
    assert vllm.SamplingParams(temperature=0.001).temperature == 0.01  # silently raised, as vLLM does
    greedy = vllm.SamplingParams(temperature=0.0, top_p=0.5)
    assert greedy.top_p == 1.0
    assert str(VLLMValidationError("bad", parameter="top_p", value=0)) == "bad (parameter=top_p, value=0)"


def test_request_errors_are_vllms(vllm: ModuleType, tmp_path: Path) -> None:
    from vllm.exceptions import ChatTemplateResolutionError, VLLMValidationError

    llm = vllm.LLM(model="m", max_model_len=12)
    conversation = [{"role": "user", "content": "one two three four five six seven"}]  # 7 words + 5 = 12 tokens
    with pytest.raises(VLLMValidationError, match=r"prompt \(length 12\) plus the number of requested output"):
        llm.chat([conversation])
    with pytest.raises(VLLMValidationError, match=r"The lengths of prompts \(2\) and params \(1\) must be the same"):
        llm.chat([conversation, conversation], sampling_params=[vllm.SamplingParams()])
    (tmp_path / "tokenizer_config.json").write_text("{}")
    with pytest.raises(ChatTemplateResolutionError, match="must provide a chat template"):
        vllm.LLM(model=str(tmp_path)).chat([[{"role": "user", "content": "hi"}]])
    (answer,) = vllm.LLM(model=str(tmp_path), chat_template="{{ x }}").chat([[{"role": "user", "content": "hi"}]])
    assert answer.outputs[0].finish_reason == "stop"
