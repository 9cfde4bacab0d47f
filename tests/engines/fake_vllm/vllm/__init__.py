"""A stand-in for ``vllm`` 0.33.0 in tests only: vLLM's signatures, defaults, checks and errors, no GPU.

What it models, and from where (``vllm_signatures.json`` beside this package holds the table read from the
real wheel, and ``tests/engines/test_fake_vllm.py`` checks this module against it):

- ``LLM.__init__`` / ``LLM.chat`` / ``LLM.get_tokenizer`` with 0.33's parameters and defaults
  (``gpu_memory_utilization = 0.92``, no ``swap_space``, ``chat_template`` on both). ``LLM(**kwargs)``
  forwards to the ``EngineArgs`` dataclass: an unknown name raises ``TypeError``.
- Request errors are ``vllm.exceptions`` classes (``VLLMValidationError``, ``ChatTemplateResolutionError``,
  both ``VLLMError(Exception)``, not ``ValueError``), with vLLM's messages: params list of the wrong
  length, a prompt at or over ``max_model_len``, a tokenizer with no chat template.
- Generation stops at ``max_tokens`` or when prompt + output reaches ``max_model_len`` (finish ``length``).
- ``disable_log_stats`` defaults to True in ``LLM``; with False each output carries ``metrics``.
- An EngineCore child process when ``FAKE_VLLM_ENGINE_CORE_PIDS`` names a file (its pid is appended
  there): like vLLM's, it is a non-daemon ``multiprocessing`` child that only ends when shut down, and
  ``FAKE_VLLM_HANG_ON_SHUTDOWN=1`` keeps it (and so the exiting parent) waiting forever.
  ``FAKE_VLLM_CHAT_DELAY_S`` makes each ``chat`` call take that long.

Every call is recorded in ``CALLS``; ``IMPORT_ENV`` is ``VLLM_BATCH_INVARIANT`` as it was at import time.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vllm.exceptions import ChatTemplateResolutionError, VLLMError, VLLMValidationError
from vllm.outputs import CompletionOutput, RequestOutput, RequestStateStats
from vllm.sampling_params import SamplingParams

__version__ = "0.33.0+fake"
__all__ = [
    "CALLS",
    "IMPORT_ENV",
    "LLM",
    "ChatTemplateResolutionError",
    "CompletionOutput",
    "RequestOutput",
    "SamplingParams",
    "VLLMError",
    "VLLMValidationError",
]

IMPORT_ENV = os.environ.get("VLLM_BATCH_INVARIANT")
CALLS: list[tuple[str, dict[str, Any]]] = []

# EngineArgs fields that LLM(**kwargs) forwards (the ones a caller here may use; all exist in 0.33's).
_ENGINE_ARGS = {
    "max_model_len": (int, type(None)),
    "enable_prefix_caching": (bool, type(None)),
    "load_format": (str,),
    "download_dir": (str, type(None)),
    "max_num_seqs": (int, type(None)),
    "disable_log_stats": (bool,),
    "kv_cache_dtype": (str,),
    "pipeline_parallel_size": (int,),
}
_DTYPES = {"auto", "half", "float16", "bfloat16", "float", "float32"}
_LOAD_FORMATS = {
    "auto", "hf", "dummy", "fastsafetensors", "instanttensor", "ipc_cache", "mistral", "modelexpress", "npcache",
    "pt", "runai_streamer", "runai_streamer_sharded", "safetensors", "sharded_state", "tensorizer",
}  # fmt: skip
_ROLES = {"system", "user", "assistant", "tool", "developer"}
_DERIVED_MAX_MODEL_LEN = 2048  # what the stand-in's "model config" allows when max_model_len is unset
_PROMPT_OVERHEAD = 5  # tokens the stand-in's chat template adds around the words of a conversation


class _ModelConfig:
    def __init__(self, max_model_len: int) -> None:
        self.max_model_len = max_model_len


class _Tokenizer:
    """Counts a conversation's words plus the template's overhead, as the stand-in's prompts do."""

    def apply_chat_template(
        self,
        conversation: list[dict[str, Any]],
        *,
        add_generation_prompt: bool = False,
        tokenize: bool = True,
        **_: Any,
    ) -> list[int] | str:
        words = " ".join(m["content"] for m in conversation).split()
        return list(range(len(words) + _PROMPT_OVERHEAD)) if tokenize else " ".join(words)


def _engine_core_main() -> None:
    """vLLM's EngineCore stand-in: holds "the GPU" until it is terminated."""
    while True:
        time.sleep(60)


def _shutdown(processes: list[Any]) -> None:
    if os.environ.get("FAKE_VLLM_HANG_ON_SHUTDOWN") == "1":
        return
    for process in processes:
        if process.is_alive():
            process.terminate()
            process.join(5)


class LLM:
    """``vllm.LLM`` with 0.33's constructor signature."""

    def __init__(
        self,
        model: str,
        *,
        runner: str = "auto",
        convert: str = "auto",
        tokenizer: str | None = None,
        tokenizer_mode: str = "auto",
        skip_tokenizer_init: bool = False,
        trust_remote_code: bool = False,
        allowed_local_media_path: str = "",
        allowed_media_domains: list[str] | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        quantization: str | None = None,
        revision: str | None = None,
        tokenizer_revision: str | None = None,
        chat_template: Path | str | None = None,
        seed: int = 0,
        gpu_memory_utilization: float = 0.92,
        cpu_offload_gb: float = 0,
        offload_group_size: int = 0,
        offload_num_in_group: int = 1,
        offload_prefetch_step: int = 1,
        offload_params: set[str] | None = None,
        enforce_eager: bool = False,
        enable_return_routed_experts: bool = False,
        return_sampling_mask: bool = False,
        disable_custom_all_reduce: bool = False,
        hf_token: bool | str | None = None,
        hf_overrides: Any = None,
        mm_processor_kwargs: dict[str, Any] | None = None,
        pooler_config: Any = None,
        structured_outputs_config: Any = None,
        profiler_config: Any = None,
        attention_config: Any = None,
        kv_cache_memory_bytes: int | None = None,
        compilation_config: Any = None,
        quantization_config: Any = None,
        logits_processors: list[Any] | None = None,
        spec_method: str | None = None,
        spec_model: str | None = None,
        spec_tokens: int | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("disable_log_stats", True)  # as vLLM's LLM does
        for name, value in kwargs.items():
            if name not in _ENGINE_ARGS:
                raise TypeError(f"EngineArgs.__init__() got an unexpected keyword argument '{name}'")
            if not isinstance(value, _ENGINE_ARGS[name]):
                raise TypeError(f"EngineArgs.{name} = {value!r} has the wrong type")
        _check(isinstance(model, str) and model, f"model must be a non-empty str, got {model!r}")
        _check(dtype in _DTYPES, f"unknown dtype {dtype!r}")
        _check(isinstance(seed, int), f"seed must be an int, got {seed!r}")
        _check(0.0 < gpu_memory_utilization <= 1.0, "gpu_memory_utilization must be in (0, 1]")
        _check(revision is None or isinstance(revision, str), "revision must be a str")
        _check(tokenizer_revision is None or isinstance(tokenizer_revision, str), "tokenizer_revision must be a str")
        _check(kwargs.get("load_format", "auto") in _LOAD_FORMATS, f"unknown load_format {kwargs.get('load_format')}")
        recorded = {
            "model": model,
            "revision": revision,
            "tokenizer_revision": tokenizer_revision,
            "trust_remote_code": trust_remote_code,
            "dtype": dtype,
            "seed": seed,
            "gpu_memory_utilization": gpu_memory_utilization,
            "tensor_parallel_size": tensor_parallel_size,
            "quantization": quantization,
            "enforce_eager": enforce_eager,
            "env_batch_invariant": os.environ.get("VLLM_BATCH_INVARIANT"),
            **kwargs,
        }
        CALLS.append(("LLM", recorded))
        self.model = model
        self.model_config = _ModelConfig(kwargs.get("max_model_len") or _DERIVED_MAX_MODEL_LEN)
        self._chat_template = chat_template
        self._log_stats = not kwargs["disable_log_stats"]
        self._processes: list[Any] = []
        pid_file = os.environ.get("FAKE_VLLM_ENGINE_CORE_PIDS")
        if pid_file:
            core = multiprocessing.get_context("spawn").Process(target=_engine_core_main, name="EngineCore")
            core.start()
            self._processes.append(core)
            with open(pid_file, "a") as handle:
                handle.write(f"{core.pid}\n")
        self._finalizer = weakref.finalize(self, _shutdown, self._processes)

    def get_tokenizer(self) -> _Tokenizer:
        """The model's tokenizer (here: one token per word)."""
        return _Tokenizer()

    def chat(
        self,
        messages: list[Any] | Sequence[list[Any]],
        sampling_params: SamplingParams | Sequence[SamplingParams] | None = None,
        use_tqdm: bool | Callable[..., Any] = True,
        lora_request: Any = None,
        priority: int | Sequence[int] | None = None,
        chat_template: str | None = None,
        chat_template_content_format: str = "auto",
        add_generation_prompt: bool = True,
        continue_final_message: bool = False,
        tools: list[dict[str, Any]] | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        tokenization_kwargs: dict[str, Any] | None = None,
        mm_processor_kwargs: dict[str, Any] | None = None,
    ) -> list[RequestOutput]:
        """Answer each conversation; validates like vLLM's renderer and input processor."""
        conversations = [messages] if messages and isinstance(messages[0], dict) else list(messages)
        for conversation in conversations:
            _check(isinstance(conversation, list) and conversation, "each conversation must be a non-empty list")
            for message in conversation:
                _check(isinstance(message, dict), f"a message must be a dict, got {type(message).__name__}")
                _check(message.get("role") in _ROLES, f"unknown role {message.get('role')!r}")
                _check(isinstance(message.get("content"), str), "message content must be a str here")
        if sampling_params is None:
            params = [SamplingParams()] * len(conversations)
        elif isinstance(sampling_params, SamplingParams):
            params = [sampling_params] * len(conversations)
        else:
            params = list(sampling_params)
            if len(params) != len(conversations):
                raise VLLMValidationError(
                    f"The lengths of prompts ({len(conversations)}) and params ({len(params)}) must be the same."
                )
        if chat_template is None and self._chat_template is None and not _has_chat_template(self.model):
            raise ChatTemplateResolutionError(
                "As of transformers v4.44, default chat template is no longer allowed, so you must provide a chat "
                "template if the tokenizer does not define one."
            )
        max_model_len = self.model_config.max_model_len
        prompts = [self.get_tokenizer().apply_chat_template(c, add_generation_prompt=True) for c in conversations]
        for prompt in prompts:
            _validate_prompt_len(len(prompt), max_model_len)
        CALLS.append(("chat", {"conversations": conversations, "sampling_params": params, "use_tqdm": use_tqdm}))
        delay = float(os.environ.get("FAKE_VLLM_CHAT_DELAY_S", "0"))
        if delay:
            time.sleep(delay)
        return [
            _answer(str(index), conversation, param, len(prompt), max_model_len, self._log_stats)
            for index, (conversation, param, prompt) in enumerate(zip(conversations, params, prompts, strict=True))
        ]


def _has_chat_template(model: str) -> bool:
    """A local folder has one when its tokenizer config or a chat_template.jinja defines it; a repo id does."""
    import json

    folder = Path(model)
    if not folder.is_dir():
        return True
    config = folder / "tokenizer_config.json"
    in_config = config.is_file() and "chat_template" in json.loads(config.read_text())
    return in_config or (folder / "chat_template.jinja").is_file()


def _validate_prompt_len(prompt_len: int, max_model_len: int) -> None:
    """vLLM's ``InputProcessor._validate_prompt_len`` for a text-only decoder, with its messages."""
    suggestion = "Make sure that `max_model_len` is no smaller than the number of text tokens."
    if prompt_len > max_model_len:
        raise VLLMValidationError(
            f"The decoder prompt (length {prompt_len}) is longer than the maximum model length of {max_model_len}. "
            f"{suggestion}"
        )
    if prompt_len == max_model_len:
        raise VLLMValidationError(
            f"The decoder prompt (length {prompt_len}) plus the number of requested output tokens (at least 1) is "
            f"longer than the maximum model length of {max_model_len}. Make sure that `max_model_len` is no smaller "
            "than the number of text tokens (prompt + requested output tokens)."
        )


def _answer(
    request_id: str,
    conversation: list[dict[str, Any]],
    params: SamplingParams,
    prompt_len: int,
    max_model_len: int,
    log_stats: bool,
) -> RequestOutput:
    """A deterministic reply: words naming the seed and sample, cut at max_tokens or the context (``length``)."""
    last = conversation[-1]["content"]
    limit = (
        max_model_len - prompt_len if params.max_tokens is None else min(params.max_tokens, max_model_len - prompt_len)
    )
    outputs = []
    for index in range(params.n):
        words = f"reply seed={params.seed} sample={index} temperature={params.temperature} to: {last}".split()
        finish = "abort" if "ABORT" in last else ("length" if len(words) > limit else "stop")
        kept = words[:limit]
        outputs.append(
            CompletionOutput(
                index=index,
                text=" ".join(kept),
                token_ids=list(range(len(kept))),
                cumulative_logprob=None,
                logprobs=None,
                finish_reason=finish,
            )
        )
    metrics = None
    if log_stats:  # engine-core timestamps: 10 ms scheduled after queueing, 1 ms per output token
        longest = max(len(o.token_ids) for o in outputs)
        metrics = RequestStateStats(
            num_generation_tokens=sum(len(o.token_ids) for o in outputs),
            arrival_time=time.time(),
            queued_ts=100.0,
            scheduled_ts=100.01,
            first_token_ts=100.011,
            last_token_ts=100.01 + 0.001 * longest,
        )
    return RequestOutput(
        request_id=request_id,
        prompt=None,
        prompt_token_ids=list(range(prompt_len)),
        prompt_logprobs=None,
        outputs=outputs,
        finished=True,
        metrics=metrics,
    )


def _check(condition: object, message: str) -> None:
    """Argument checks vLLM makes with plain ValueError (config validation, not request validation)."""
    if not condition:
        raise ValueError(message)
