"""The ``vllm`` engine: offline ``vllm.LLM`` on a GPU, pinned to the watched revision.

Built only inside the worker process (vLLM does not give GPU memory back in-process). The model and its
tokenizer are both pinned to the revision's sha, remote code is never trusted, and only safetensors are
loaded unless the user opts in. Each request gets its own ``SamplingParams`` with its own seed, so a
resumed run samples what the first attempt would have; ``LLM.chat`` applies the revision's own chat
template. The reasoning split is ours (the offline API returns raw text), so ``reasoning`` stays None.

Reproducible greedy runs: prefix caching is off by default, and ``batch_invariant = true`` sets
``VLLM_BATCH_INVARIANT=1`` before vLLM is imported (vLLM reads it at import), which makes a request's
output independent of what else shares its batch, at some cost in speed.

Signatures used (checked against vLLM's ``vllm/entrypoints/llm.py``, ``sampling_params.py``, ``outputs.py``):
``LLM(model, *, tokenizer_revision, revision, seed, dtype, gpu_memory_utilization, trust_remote_code,
tensor_parallel_size, quantization, enforce_eager, **EngineArgs: max_model_len, enable_prefix_caching,
load_format, download_dir)``; ``LLM.chat(messages, sampling_params, use_tqdm, ...)`` returning one
``RequestOutput`` per conversation in order; ``SamplingParams(n, temperature, top_p, max_tokens, seed)``;
``RequestOutput.prompt_token_ids`` and ``.outputs[i]`` (``CompletionOutput.text``, ``.token_ids``,
``.finish_reason`` in stop | length | abort).
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from monitor.engines._batching import group_samples as _grouped
from monitor.engines._protocol import FinishReason, Generation, GenerationRequest
from monitor.errors import EngineError

__all__ = ["VLLMEngine"]

_INSTALL = "pip install 'drift-monitor[vllm]' on a GPU host"
_DTYPES = ("auto", "bfloat16", "float16", "float32", "half", "float")


class VLLMEngine:
    """A Hub revision served in-process by ``vllm.LLM``; requests go through ``LLM.chat`` in batches."""

    kind = "vllm"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        *,
        dtype: str = "auto",
        max_model_len: int | None = None,
        gpu_memory_utilization: float = 0.9,
        seed: int = 0,
        batch_invariant: bool = False,
        prefix_caching: bool = False,
        batch_size: int = 256,
        group_samples: bool = False,
        tensor_parallel_size: int = 1,
        quantization: str | None = None,
        enforce_eager: bool = False,
        download_dir: str | None = None,
        allow_pickle: bool = False,
    ) -> None:
        """Load ``model`` (a repo id, or a local snapshot folder) at ``revision`` (a commit sha) with vLLM.

        Raises EngineError when vLLM is missing, an option is out of range, or vLLM cannot load the model.
        """
        if dtype not in _DTYPES:
            raise EngineError(f"engine option dtype = {dtype!r}: use one of {', '.join(_DTYPES)}")
        if not 0.0 < gpu_memory_utilization <= 1.0:
            raise EngineError(f"engine option gpu_memory_utilization = {gpu_memory_utilization}: use (0, 1]")
        if batch_size < 1:
            raise EngineError(f"engine option batch_size = {batch_size}: use 1 or more")
        if batch_invariant:
            if "vllm" in sys.modules and os.environ.get("VLLM_BATCH_INVARIANT") != "1":
                raise EngineError(
                    "batch_invariant needs VLLM_BATCH_INVARIANT=1 before vLLM is imported, and this process has "
                    "already imported vLLM: build the engine in a fresh worker process"
                )
            os.environ["VLLM_BATCH_INVARIANT"] = "1"
        try:
            import vllm
            from vllm.platforms import current_platform
        except ImportError:
            raise EngineError(f"the vllm engine needs vLLM: {_INSTALL}") from None
        self._vllm = vllm
        self._batch_size = batch_size
        self._group_samples = group_samples
        self._options = {
            "batch_invariant": batch_invariant,
            "prefix_caching": prefix_caching,
        }
        # A local folder is the pinned snapshot already (the monitor downloads it, safetensors only); a
        # repo id is pinned by passing the sha for both the weights and the tokenizer.
        pinned = None if Path(model).is_dir() else revision
        kwargs: dict[str, Any] = {
            "revision": pinned,
            "tokenizer_revision": pinned,
            "seed": seed,
            "dtype": dtype,
            "max_model_len": max_model_len,
            "gpu_memory_utilization": gpu_memory_utilization,
            "enable_prefix_caching": prefix_caching,
            "trust_remote_code": False,
            "tensor_parallel_size": tensor_parallel_size,
            "quantization": quantization,
            "enforce_eager": enforce_eager,
            "load_format": "auto" if allow_pickle else "safetensors",
        }
        if download_dir is not None:
            kwargs["download_dir"] = download_dir
        try:
            self._llm = vllm.LLM(model=model, **kwargs)
        except (OSError, ValueError, RuntimeError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EngineError(f"vLLM could not load {model}@{revision or 'default'}: {message}") from None
        self._version = f"vllm {vllm.__version__}"
        try:
            self._device = f"cuda: {current_platform.get_device_name()}"
        except Exception:  # a platform that cannot name itself still generates
            self._device = "cuda"

    @property
    def version(self) -> str:
        """VLLM's version: a different one is a confounder in comparisons."""
        return self._version

    @property
    def device(self) -> str:
        """The GPU name as vLLM's platform reports it."""
        return self._device

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate in chunks of ``batch_size`` conversations (one ``LLM.chat`` call each); yields per chunk."""
        units = _grouped(requests) if self._group_samples else [[request] for request in requests]
        for start in range(0, len(units), self._batch_size):
            yield from self._chat(units[start : start + self._batch_size])

    def _chat(self, units: list[list[GenerationRequest]]) -> Iterator[Generation]:
        conversations = [[{"role": m.role, "content": m.content} for m in unit[0].messages] for unit in units]
        params = [self._sampling_params(unit) for unit in units]
        started = time.perf_counter()
        try:
            outputs = self._llm.chat(conversations, sampling_params=params, use_tqdm=False)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(f"vLLM failed to generate: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        latency = time.perf_counter() - started
        if len(outputs) != len(units):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(units)} conversations")
        for unit, output in zip(units, outputs, strict=True):
            completions = sorted(output.outputs, key=lambda c: c.index)
            if len(completions) < len(unit):
                raise EngineError(
                    f"vLLM returned {len(completions)} samples for probe {unit[0].probe_id!r}, not {len(unit)}"
                )
            prompt_tokens = len(output.prompt_token_ids) if output.prompt_token_ids is not None else None
            for request, completion in zip(unit, completions, strict=False):
                yield Generation(
                    probe_id=request.probe_id,
                    sample_index=request.sample_index,
                    text=completion.text,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(completion.token_ids),
                    finish_reason=_finish_reason(completion.finish_reason),
                    latency_s=latency,
                )

    def _sampling_params(self, unit: list[GenerationRequest]) -> Any:
        first = unit[0]
        return self._vllm.SamplingParams(
            n=len(unit),
            temperature=first.sampling.temperature,
            top_p=first.sampling.top_p,
            max_tokens=first.sampling.max_tokens,
            seed=first.seed,
        )

    def close(self) -> None:
        """Drop the LLM; the worker process exits next, which is what really frees the GPU."""
        self.__dict__.pop("_llm", None)
        gc.collect()


def _finish_reason(value: str | None) -> FinishReason:
    reasons: dict[str | None, Literal["stop", "length"]] = {"stop": "stop", "length": "length"}
    return reasons.get(value, "error")
