"""The ``vllm`` engine: offline ``vllm.LLM`` on a GPU, pinned to the watched revision.

Built only inside the worker process (vLLM does not give GPU memory back in-process). The model and its
tokenizer are both pinned to the revision's sha, remote code is never trusted, and only safetensors are
loaded unless the user opts in. Each request gets its own ``SamplingParams`` with its own seed, so a
resumed run samples what the first attempt would have; ``LLM.chat`` applies the revision's own chat
template. The reasoning split is ours (the offline API returns raw text), so ``reasoning`` stays None.

Reproducible greedy runs: prefix caching is off by default, and ``batch_invariant = true`` sets
``VLLM_BATCH_INVARIANT=1`` for the engine, which makes a request's output independent of what else
shares its batch, at some cost in speed. vLLM reads the variable lazily (``vllm.envs``), in its engine
core process, which inherits this process's environment when ``LLM()`` starts it; so the option is what
takes effect: a ``VLLM_BATCH_INVARIANT`` the user exported is removed when the option is false, and the
run records what vLLM ran with.

vLLM's limits are checked before anything is loaded (``sampling_problem``, called by the worker's
parent before a run starts) and again before generation (a prompt that leaves no room in
``max_model_len``); what vLLM still rejects (``vllm.exceptions.VLLMError``: ``VLLMValidationError``,
``ChatTemplateResolutionError``, none of them a ``ValueError``) becomes an ``EngineError`` with vLLM's reason.
Temperature 0 with several samples (vLLM refuses ``n > 1`` when greedy) is sent as that many greedy requests.
``latency_s`` is each request's inference time from vLLM's per-request metrics (``last_token_ts -
scheduled_ts``); stats are enabled for that, and where a vLLM gives no metrics it is the chunk's wall time.

Signatures used (checked against vLLM 0.33.0's ``vllm/entrypoints/llm.py``, ``sampling_params.py``,
``outputs.py``, ``exceptions.py``; the stand-in in tests/engines/fake_vllm is checked against the same):
``LLM(model, *, tokenizer_revision, revision, seed, dtype, gpu_memory_utilization, trust_remote_code,
tensor_parallel_size, quantization, enforce_eager, **EngineArgs: max_model_len, enable_prefix_caching,
load_format, download_dir, disable_log_stats)``; ``LLM.model_config.max_model_len``;
``LLM.get_tokenizer().apply_chat_template``; ``LLM.chat(messages, sampling_params, use_tqdm, ...)``
returning one ``RequestOutput`` per conversation in order; ``SamplingParams(n, temperature, top_p,
max_tokens, seed)``; ``RequestOutput.prompt_token_ids``, ``.metrics`` and ``.outputs[i]``
(``CompletionOutput.text``, ``.token_ids``, ``.finish_reason`` in stop | length | abort).
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

__all__ = ["VLLMEngine", "sampling_problem"]

_INSTALL = "pip install 'drift-monitor[vllm]' on a GPU host"
_DTYPES = ("auto", "bfloat16", "float16", "float32", "half", "float")
# vLLM 0.33's SamplingParams: temperature in [0, 2]; one in (0, 0.01) is silently raised to 0.01.
_MAX_TEMPERATURE = 2.0
_MIN_TEMPERATURE = 0.01


def sampling_problem(requests: Sequence[GenerationRequest], *, max_model_len: int | None) -> str | None:
    """What vLLM would refuse (or silently change) about these requests, as one line; None when they fit.

    Checked before a run starts, so a suite setting vLLM cannot honour fails once with its name instead
    of on every request of every cycle.
    """
    for request in requests:
        sampling, where = request.sampling, f"probe {request.probe_id!r}"
        if sampling.temperature > _MAX_TEMPERATURE:
            return f"{where}: temperature {sampling.temperature} is above vLLM's limit of {_MAX_TEMPERATURE:g}"
        if 0 < sampling.temperature < _MIN_TEMPERATURE:
            return (
                f"{where}: temperature {sampling.temperature} is below vLLM's minimum of {_MIN_TEMPERATURE} (vLLM "
                "would silently sample at 0.01): use 0 for greedy or 0.01 or more"
            )
        if max_model_len is not None and sampling.max_tokens >= max_model_len:
            return (
                f"{where}: max_tokens = {sampling.max_tokens} does not fit the vllm engine's max_model_len = "
                f"{max_model_len} (prompt and answer share it, so vLLM would cut every long answer at "
                f"{max_model_len} tokens with finish reason 'length'): raise max_model_len or lower max_tokens"
            )
    return None


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
        if max_model_len is not None and max_model_len < 2:
            raise EngineError(f"engine option max_model_len = {max_model_len}: use 2 or more")
        wanted = "1" if batch_invariant else None
        if "vllm" in sys.modules and os.environ.get("VLLM_BATCH_INVARIANT") != wanted:
            # vLLM reads it lazily, but kernels already imported in this process may have read it.
            raise EngineError(
                f"batch_invariant = {str(batch_invariant).lower()} needs VLLM_BATCH_INVARIANT "
                f"{'=1' if batch_invariant else 'unset'} before vLLM is imported, and this process has already "
                "imported vLLM without it: build the engine in a fresh worker process"
            )
        # The option decides, not whatever the user's shell exported: the run records what takes effect.
        if batch_invariant:
            os.environ["VLLM_BATCH_INVARIANT"] = "1"
        else:
            os.environ.pop("VLLM_BATCH_INVARIANT", None)
        try:
            import vllm
            from vllm.exceptions import VLLMError
            from vllm.platforms import current_platform
        except ImportError:
            raise EngineError(f"the vllm engine needs vLLM: {_INSTALL}") from None
        self._vllm = vllm
        self._errors: tuple[type[Exception], ...] = (VLLMError, ValueError, RuntimeError)
        self._batch_size = batch_size
        self._group_samples = group_samples
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
            "disable_log_stats": False,  # per-request metrics, for each generation's own latency
        }
        if download_dir is not None:
            kwargs["download_dir"] = download_dir
        try:
            self._llm = vllm.LLM(model=model, **kwargs)
        except (OSError, *self._errors) as exc:
            raise EngineError(f"vLLM could not load {model}@{revision or 'default'}: {_reason(exc)}") from None
        self._max_model_len: int | None = getattr(getattr(self._llm, "model_config", None), "max_model_len", None)
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
        """Generate in chunks of ``batch_size`` conversations (one ``LLM.chat`` call each); yields per chunk.

        Raises EngineError before the first chunk when a prompt leaves no room for an answer in
        ``max_model_len``, or when vLLM rejects a request.
        """
        problem = sampling_problem(requests, max_model_len=self._max_model_len)
        if problem:
            raise EngineError(problem)
        units = _grouped(requests) if self._group_samples else [[request] for request in requests]
        # vLLM refuses n > 1 when greedy: several greedy samples are that many requests (the same answer).
        units = [part for unit in units for part in ([[r] for r in unit] if unit[0].sampling.greedy else [unit])]
        self._check_prompt_lengths(units)
        for start in range(0, len(units), self._batch_size):
            yield from self._chat(units[start : start + self._batch_size])

    def _check_prompt_lengths(self, units: list[list[GenerationRequest]]) -> None:
        """Name the first prompt that does not fit ``max_model_len`` with both numbers, before generating."""
        if self._max_model_len is None:
            return
        try:
            tokenizer = self._llm.get_tokenizer()
        except self._errors:
            return  # vLLM checks again when it generates; its message is mapped there
        seen: set[str] = set()
        for unit in units:
            request = unit[0]
            if request.probe_id in seen:
                continue
            seen.add(request.probe_id)
            tokens = tokenizer.apply_chat_template(_conversation(request), add_generation_prompt=True, tokenize=True)
            length = len(tokens["input_ids"] if isinstance(tokens, dict) else tokens)
            if length >= self._max_model_len:
                raise EngineError(
                    f"probe {request.probe_id!r}: its prompt is {length} tokens and the vllm engine's max_model_len "
                    f"is {self._max_model_len}, which leaves no room for an answer: raise max_model_len or shorten "
                    "the probe"
                )

    def _chat(self, units: list[list[GenerationRequest]]) -> Iterator[Generation]:
        conversations = [_conversation(unit[0]) for unit in units]
        started = time.perf_counter()
        try:
            params = [self._sampling_params(unit) for unit in units]
            outputs = self._llm.chat(conversations, sampling_params=params, use_tqdm=False)
        except self._errors as exc:
            raise EngineError(f"vLLM failed to generate: {_reason(exc)}") from None
        chunk_s = time.perf_counter() - started
        if len(outputs) != len(units):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(units)} conversations")
        for unit, output in zip(units, outputs, strict=True):
            completions = sorted(output.outputs, key=lambda c: c.index)
            if len(completions) < len(unit):
                raise EngineError(
                    f"vLLM returned {len(completions)} samples for probe {unit[0].probe_id!r}, not {len(unit)}"
                )
            prompt_tokens = len(output.prompt_token_ids) if output.prompt_token_ids is not None else None
            latency = _inference_s(getattr(output, "metrics", None)) or chunk_s
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


def _conversation(request: GenerationRequest) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in request.messages]


def _inference_s(metrics: Any) -> float | None:
    """One request's time from scheduling to its last token (vLLM's ``RequestStateStats``), when recorded."""
    try:
        seconds = float(metrics.last_token_ts) - float(metrics.scheduled_ts)
    except (AttributeError, TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _reason(exc: BaseException) -> str:
    """The first line of what vLLM raised, with its class (a VLLMValidationError says what was rejected)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _finish_reason(value: str | None) -> FinishReason:
    reasons: dict[str | None, Literal["stop", "length"]] = {"stop": "stop", "length": "length"}
    return reasons.get(value, "error")
