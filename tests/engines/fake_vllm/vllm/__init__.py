"""A stand-in for ``vllm`` in tests only: same call signatures as vLLM's, strict about them, no GPU.

Signatures copied from vLLM's ``vllm/entrypoints/llm.py`` (``LLM.__init__``, ``LLM.chat``),
``vllm/sampling_params.py`` (``SamplingParams`` fields) and ``vllm/outputs.py`` (``RequestOutput``,
``CompletionOutput``). Unknown keyword arguments raise ``TypeError`` as the real ones do (``LLM`` passes
``**kwargs`` to the ``EngineArgs`` dataclass), and values are checked the way vLLM checks them. Every
call is recorded in ``CALLS``; ``IMPORT_ENV`` is ``VLLM_BATCH_INVARIANT`` as it was at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from vllm.outputs import CompletionOutput, RequestOutput
from vllm.sampling_params import SamplingParams

__version__ = "0.33.0+fake"
__all__ = ["CALLS", "IMPORT_ENV", "LLM", "CompletionOutput", "RequestOutput", "SamplingParams"]

IMPORT_ENV = os.environ.get("VLLM_BATCH_INVARIANT")
CALLS: list[tuple[str, dict[str, Any]]] = []

# EngineArgs fields that LLM(**kwargs) forwards (a subset of vLLM's, the ones a caller here may use).
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
_LOAD_FORMATS = {"auto", "pt", "safetensors", "npcache", "dummy", "tensorizer", "gguf", "bitsandbytes", "mistral"}
_ROLES = {"system", "user", "assistant", "tool", "developer"}


class LLM:
    """``vllm.LLM`` with the real constructor signature."""

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
        seed: int = 0,
        gpu_memory_utilization: float = 0.9,
        swap_space: float = 4,
        cpu_offload_gb: float = 0,
        enforce_eager: bool = False,
        enable_return_routed_experts: bool = False,
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
        logits_processors: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
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

    def chat(
        self,
        messages: list[Any] | Sequence[list[Any]],
        sampling_params: SamplingParams | list[SamplingParams] | None = None,
        use_tqdm: bool | Callable[..., Any] = True,
        lora_request: Any = None,
        chat_template: str | None = None,
        chat_template_content_format: str = "auto",
        add_generation_prompt: bool = True,
        continue_final_message: bool = False,
        tools: list[dict[str, Any]] | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        tokenization_kwargs: dict[str, Any] | None = None,
        mm_processor_kwargs: dict[str, Any] | None = None,
    ) -> list[RequestOutput]:
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
                raise ValueError("The lengths of prompts and params must be the same.")
            _check(all(isinstance(p, SamplingParams) for p in params), "sampling_params must be SamplingParams")
        CALLS.append(("chat", {"conversations": conversations, "sampling_params": params, "use_tqdm": use_tqdm}))
        return [
            _answer(str(index), conversation, param)
            for index, (conversation, param) in enumerate(zip(conversations, params, strict=True))
        ]


def _answer(request_id: str, conversation: list[dict[str, Any]], params: SamplingParams) -> RequestOutput:
    """A deterministic reply: words naming the seed and sample, cut at max_tokens (then finish 'length')."""
    prompt_words = " ".join(m["content"] for m in conversation).split()
    last = conversation[-1]["content"]
    outputs = []
    for index in range(params.n):
        words = f"reply seed={params.seed} sample={index} temperature={params.temperature} to: {last}".split()
        limit = params.max_tokens if params.max_tokens is not None else len(words)
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
    return RequestOutput(
        request_id=request_id,
        prompt=None,
        prompt_token_ids=list(range(len(prompt_words) + 5)),
        prompt_logprobs=None,
        outputs=outputs,
        finished=True,
    )


def _check(condition: object, message: str) -> None:
    if not condition:
        raise ValueError(message)
