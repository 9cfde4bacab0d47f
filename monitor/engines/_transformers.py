"""The ``transformers`` engine: CPU or CUDA, batched generation with left padding and per-request seeds.

Unless told otherwise it picks what runs fastest here: the dtype the processor computes natively
(bfloat16 on CUDA and on CPUs with native bf16, float32 elsewhere) and batches as large as memory allows,
packed by prompt length (``_batching.pack_by_length``): on CPU a batch of 32 generates ~2.8x faster
than a batch of 8.

Sampling is done by our own logits processor with one ``torch.Generator`` per request, so a request's
random draws depend on its seed alone, not on which other requests shared its batch. In float32 that
makes the sample itself batch-independent, so a killed run resumes and produces exactly the samples it
would have produced. In bfloat16 the padding of a different batch moves a row's logits in their last
bits, and a near-tie can then tip to another token: the same batch reproduces its samples, another
batch may not (seen with SmolLM2 on a CPU with AMX).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from monitor.engines._batching import pack_by_length
from monitor.engines._hardware import available_memory_bytes, native_dtype
from monitor.engines._protocol import FinishReason, Generation, GenerationRequest
from monitor.errors import EngineError, ModelNotFoundError

__all__ = ["TransformersEngine"]

_WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt")
# The largest automatic batch. generate() keeps computing rows that already stopped until the longest
# row of the batch is done, so past the point where a larger batch stops amortising weight reads a
# larger one only wastes work on finished rows: on 2 CPU cores 32 was 2.8x faster than 8, and no
# faster beyond.
_AUTO_CAP_CPU = 32
_AUTO_CAP_CUDA = 128
_MEMORY_SHARE = 0.5  # of the memory free when a group starts: the rest is for everything else on the host


class TransformersEngine:
    """A Hugging Face causal LM loaded from a local directory (a pinned snapshot) or a GGUF file."""

    kind = "transformers"

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int | None = None,
        gguf_file: str | None = None,
        allow_pickle: bool = False,
    ) -> None:
        import torch
        import transformers

        self._torch = torch
        transformers.utils.logging.disable_progress_bar()
        path = Path(model_path)
        if path.is_file() and path.suffix == ".gguf":
            path, gguf_file = path.parent, path.name
        if not path.is_dir():
            raise ModelNotFoundError(f"{model_path} is not a model directory (expected config.json or a .gguf file)")
        if gguf_file is None and not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{model_path} is not a model directory: it has no config.json")
        if gguf_file is None and not allow_pickle and not any(path.glob("*.safetensors")):
            raise EngineError(
                f"{model_path} has no safetensors weights; pickle weights (*.bin, *.pt) are refused unless "
                "the engine option allow_pickle = true is set"
            )
        self._device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        torch_dtype = _resolve_dtype(torch, dtype, self._device)
        kwargs: dict[str, Any] = {"trust_remote_code": False}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), padding_side="left", **kwargs)
            self._model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), dtype=torch_dtype, use_safetensors=None if allow_pickle or gguf_file else True, **kwargs
            )
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"cannot load a model from {model_path}: {str(exc).splitlines()[0]}") from None
        self._model.to(self._device)
        self._model.eval()
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        if not self._tokenizer.chat_template:
            raise EngineError(f"{model_path} has no chat template; the monitor only runs chat models")
        eos = self._model.generation_config.eos_token_id
        if eos is None:
            eos = self._tokenizer.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, list) else [eos])
        if batch_size is not None and batch_size < 1:
            raise EngineError(f"engine option batch_size = {batch_size}: use 1 or more (or leave it out: automatic)")
        self._batch_size = batch_size
        self._dtype_name = str(torch_dtype).removeprefix("torch.")
        self._kv_bytes_per_token, self._row_bytes = _memory_costs(self._model.config, torch_dtype.itemsize)
        self._auto_cap = _AUTO_CAP_CUDA if self._device.startswith("cuda") else _AUTO_CAP_CPU
        self._version = f"transformers {transformers.__version__}, torch {torch.__version__}"

    @property
    def version(self) -> str:
        """Library versions: a different engine version is a confounder in comparisons."""
        return self._version

    @property
    def device(self) -> str:
        """``cpu`` or the CUDA device name."""
        if self._device.startswith("cuda"):
            return f"cuda: {self._torch.cuda.get_device_name(0)}"
        return self._device

    def prompt_text(self, request: GenerationRequest) -> str:
        """The exact prompt string the revision's own chat template produces."""
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return str(text)

    @property
    def dtype(self) -> str:
        """The dtype the weights run in (``float32``, ``bfloat16``...), as chosen or resolved from ``auto``."""
        return self._dtype_name

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate in batches of similar prompt length, grouped by max_tokens; yields batch by batch."""
        texts = [self.prompt_text(request) for request in requests]
        token_ids = self._tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        prompts = sorted(zip(requests, token_ids, strict=True), key=lambda p: (p[0].sampling.max_tokens, len(p[1])))
        for max_tokens, group in groupby(prompts, key=lambda item: item[0].sampling.max_tokens):
            items = list(group)
            sizes = pack_by_length(
                [len(ids) for _, ids in items],
                max_tokens=max_tokens,
                token_bytes=self._kv_bytes_per_token,
                row_bytes=self._row_bytes,
                budget_bytes=self._batch_budget(),
                cap=self._batch_size or self._auto_cap,
            )
            start = 0
            for size in sizes:
                yield from self._generate_batch(items[start : start + size], max_tokens)
                start += size

    def _batch_budget(self) -> int | None:
        free = available_memory_bytes(self._torch, self._device)
        return None if free is None else int(free * _MEMORY_SHARE)

    def _generate_batch(
        self, items: list[tuple[GenerationRequest, list[int]]], max_tokens: int
    ) -> Iterator[Generation]:
        torch = self._torch
        from transformers import GenerationConfig, LogitsProcessorList

        encoded = self._tokenizer.pad({"input_ids": [ids for _, ids in items]}, padding=True, return_tensors="pt").to(
            self._device
        )
        sampler = _SeededSampler([request for request, _ in items], device=self._device)
        config = GenerationConfig(
            do_sample=False,
            max_new_tokens=max_tokens,
            pad_token_id=self._tokenizer.pad_token_id,
            eos_token_id=sorted(self._eos_ids),
        )
        started = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                input_ids=encoded["input_ids"],
                attention_mask=encoded["attention_mask"],
                generation_config=config,
                logits_processor=LogitsProcessorList([sampler]),
            )
        latency = time.perf_counter() - started
        prompt_width = encoded["input_ids"].shape[1]
        prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
        for row, (request, _) in enumerate(items):
            tokens = output[row, prompt_width:].tolist()
            finish: FinishReason = "length"
            for position, token in enumerate(tokens):
                if token in self._eos_ids:
                    tokens, finish = tokens[:position], "stop"
                    break
            text = str(self._tokenizer.decode(tokens, skip_special_tokens=True))
            yield Generation(
                probe_id=request.probe_id,
                sample_index=request.sample_index,
                text=text,
                prompt_tokens=int(prompt_lengths[row]),
                completion_tokens=len(tokens) + (1 if finish == "stop" else 0),
                finish_reason=finish,
                latency_s=latency,
            )

    def close(self) -> None:
        """Drop the model and give CUDA memory back."""
        del self._model
        if self._device.startswith("cuda"):
            self._torch.cuda.empty_cache()


class _SeededSampler:
    """Temperature + nucleus sampling per row, each row with its own seeded generator.

    Each step draws one uniform number per sampled row from that row's CPU generator (cheap, and the same
    whatever the batch), then samples every row at once by inverse CDF over its nucleus. Sampled rows get
    every logit but the drawn token set to -inf, so the greedy step of ``generate`` picks exactly that
    token; greedy rows (temperature 0) pass through untouched.
    """

    def __init__(self, requests: Sequence[GenerationRequest], *, device: str) -> None:
        import torch

        self._torch = torch
        sampled = [i for i, r in enumerate(requests) if not r.sampling.greedy]
        self._any = bool(sampled)
        self._rows = torch.tensor(sampled, dtype=torch.long, device=device)
        self._greedy_rows = torch.tensor(
            [i for i, r in enumerate(requests) if r.sampling.greedy], dtype=torch.long, device=device
        )
        self._temperatures = torch.tensor([requests[i].sampling.temperature for i in sampled], device=device)
        self._top_ps = torch.tensor([requests[i].sampling.top_p for i in sampled], device=device)
        self._generators = [torch.Generator(device="cpu").manual_seed(requests[i].seed) for i in sampled]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if not self._any:
            return scores
        torch = self._torch
        logits = scores.index_select(0, self._rows).float() / self._temperatures[:, None]
        probs = torch.softmax(logits, dim=-1)
        sorted_probs, order = torch.sort(probs, descending=True, dim=-1)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        # Keep the smallest prefix whose mass reaches top_p (the first token is always kept).
        sorted_probs = sorted_probs.masked_fill((cumulative - sorted_probs) >= self._top_ps[:, None], 0.0)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        uniforms = torch.tensor([float(torch.rand(1, generator=g)) for g in self._generators], device=scores.device)
        targets = (uniforms * cumulative[:, -1]).unsqueeze(1)
        picks = torch.searchsorted(cumulative, targets, right=True).clamp(max=cumulative.shape[1] - 1)
        tokens = order.gather(1, picks).squeeze(1)
        forced = torch.full_like(scores, float("-inf"))
        forced[self._rows, tokens] = 0.0
        if self._greedy_rows.numel():
            forced[self._greedy_rows] = scores.index_select(0, self._greedy_rows)
        return forced


def _memory_costs(config: Any, itemsize: int) -> tuple[int, int]:
    """Bytes a batch row needs per token of its sequence (KV cache, prefill activations) and per row.

    Per token: keys and values of every layer, and one layer's MLP and attention activations during
    the prompt's forward pass (SDPA does not materialise the score matrix). Per row: the float32
    logits over the vocabulary, copied a few times by the sampler and ``generate``.
    """
    text = getattr(config, "text_config", None) or config
    hidden = int(getattr(text, "hidden_size", 4096))
    heads = int(getattr(text, "num_attention_heads", 32))
    kv_heads = int(getattr(text, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(text, "head_dim", None) or hidden // heads)
    layers = int(getattr(text, "num_hidden_layers", 32))
    intermediate = int(getattr(text, "intermediate_size", 4 * hidden))
    vocab = int(getattr(text, "vocab_size", 32000))
    per_token = 2 * layers * kv_heads * head_dim * itemsize + (3 * intermediate + 4 * hidden) * itemsize
    return per_token, 8 * vocab * 4


def _resolve_dtype(torch: Any, dtype: str, device: str) -> Any:
    """``auto``: what the processor computes natively (bf16 on CUDA and on CPUs with native bf16)."""
    if dtype == "auto":
        dtype = native_dtype(device)
    try:
        return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    except KeyError:
        raise EngineError(f"engine option dtype = {dtype!r}: use auto, float32, bfloat16 or float16") from None
