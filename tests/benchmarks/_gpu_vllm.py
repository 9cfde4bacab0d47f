"""The vLLM leg of gpu_check: ``LLM.chat`` through our engine next to the transformers engine, same prompts.

Runs only where ``vllm`` imports (a GPU host that has it); elsewhere ``vllm_missing()`` says why and the
leg is reported as not run. Each vLLM engine is built in a fresh child process (``python -m
tests.benchmarks._gpu_vllm CHILD_ARGS_JSON``): vLLM does not give GPU memory back in-process, and
``batch_invariant`` must be in the environment before vLLM starts its engine. Three children:

- ``default``: greedy, all prompts in one ``LLM.chat`` call: tokens/s, and greedy agreement with the
  transformers engine's texts for the same prompts;
- ``invariant_all`` and ``invariant_one``: ``batch_invariant = true``, all prompts in one batch vs one
  prompt per batch: whether batch invariance makes greedy texts independent of the batch they ran in.

The report is a dict (``run_vllm_leg``); a child that fails is recorded with its error, not raised, so
the first real contact always produces figures or the reason there are none.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LegInput", "format_leg", "run_vllm_leg", "vllm_missing"]


@dataclass(frozen=True)
class LegInput:
    """What the transformers engine produced for the prompts the vLLM leg repeats."""

    folder: Path
    questions: tuple[str, ...]
    max_tokens: int
    transformers_texts: tuple[str, ...]
    transformers_tokens: int
    transformers_s: float


def vllm_missing() -> str | None:
    """Why the vLLM leg cannot run here (None when ``vllm`` imports)."""
    if importlib.util.find_spec("vllm") is None:
        return "vllm is not installed"
    try:
        import vllm  # noqa: F401
    except Exception as exc:  # a broken install (no CUDA, ABI mismatch) says what broke
        return f"vllm does not import: {type(exc).__name__}: {exc}"
    return None


def _child(args: dict[str, Any]) -> dict[str, Any]:
    """In the child process: build our vllm engine, generate greedy answers, time it."""
    from monitor.engines import GenerationRequest, Message, Sampling, VLLMEngine

    engine = VLLMEngine(
        args["folder"],
        None,
        batch_invariant=args["batch_invariant"],
        batch_size=args["batch_size"],
        max_model_len=args["max_model_len"],
        gpu_memory_utilization=args["gpu_memory_utilization"],
    )
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=args["max_tokens"])
    requests = [
        GenerationRequest(f"q{i}", 0, (Message("user", text),), sampling, i) for i, text in enumerate(args["questions"])
    ]
    list(engine.generate(requests[:1]))  # warm-up (graphs, kernels)
    started = time.perf_counter()
    generations = sorted(engine.generate(requests), key=lambda g: int(g.probe_id[1:]))
    seconds = time.perf_counter() - started
    result = {
        "version": engine.version,
        "device": engine.device,
        "seconds": seconds,
        "tokens": sum(g.completion_tokens or 0 for g in generations),
        "texts": [g.text for g in generations],
    }
    engine.close()
    return result


def _spawn(args: dict[str, Any], *, timeout_s: float) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks._gpu_vllm", json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=os.environ.copy(),
        cwd=Path(__file__).parents[2],  # the repository root, where ``tests.benchmarks`` imports
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {completed.returncode}: {' | '.join(tail)}"}
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def _prefix_share(a: str, b: str) -> float:
    """How much of the longer text the two share from the start (1.0: identical)."""
    longest = max(len(a), len(b))
    if not longest:
        return 1.0
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return common / longest


def run_vllm_leg(leg: LegInput, *, deadline_s: float, gpu_memory_utilization: float = 0.5) -> dict[str, Any]:
    """The three children and their comparison; ``{"ran": False, "reason": ...}`` where vLLM is missing."""
    missing = vllm_missing()
    if missing:
        return {"ran": False, "reason": missing}
    began = time.perf_counter()
    base = {
        "folder": str(leg.folder),
        "questions": list(leg.questions),
        "max_tokens": leg.max_tokens,
        "max_model_len": 2048,
        "gpu_memory_utilization": gpu_memory_utilization,
    }
    runs: dict[str, dict[str, Any]] = {}
    plans = {
        "default": {"batch_invariant": False, "batch_size": len(leg.questions)},
        "invariant_all": {"batch_invariant": True, "batch_size": len(leg.questions)},
        "invariant_one": {"batch_invariant": True, "batch_size": 1},
    }
    for name, options in plans.items():
        left = deadline_s - (time.perf_counter() - began)
        if left < 30:
            runs[name] = {"error": "skipped: deadline"}
            continue
        try:
            runs[name] = _spawn({**base, **options}, timeout_s=left)
        except subprocess.TimeoutExpired:
            runs[name] = {"error": f"timed out after {left:.0f} s"}
    report: dict[str, Any] = {"ran": True, "runs": runs}
    default = runs["default"]
    if "texts" in default:
        texts = default["texts"]
        report["vllm_tps"] = default["tokens"] / default["seconds"] if default["seconds"] else 0.0
        report["transformers_tps"] = leg.transformers_tokens / leg.transformers_s if leg.transformers_s else 0.0
        report["greedy_exact_match"] = sum(a == b for a, b in zip(texts, leg.transformers_texts, strict=True)) / len(
            texts
        )
        report["greedy_prefix_share"] = sum(
            _prefix_share(a, b) for a, b in zip(texts, leg.transformers_texts, strict=True)
        ) / len(texts)
    first, second = runs["invariant_all"], runs["invariant_one"]
    if "texts" in first and "texts" in second:
        report["batch_invariant_reproduces"] = first["texts"] == second["texts"]
        report["batch_invariant_same"] = sum(a == b for a, b in zip(first["texts"], second["texts"], strict=True))
    if "texts" in default and "texts" in second:
        report["default_vs_one_per_batch_same"] = sum(
            a == b for a, b in zip(default["texts"], second["texts"], strict=True)
        )
    return report


def format_leg(report: dict[str, Any]) -> str:
    """The leg's figures as the lines gpu_check prints."""
    if not report.get("ran"):
        return f"vLLM leg not run: {report.get('reason')}"
    lines = []
    for name, run in report["runs"].items():
        if "error" in run:
            lines.append(f"  vllm {name}: {run['error']}")
        else:
            lines.append(f"  vllm {name}: {run['tokens']} tokens in {run['seconds']:.2f} s ({run['version']})")
    if "vllm_tps" in report:
        lines.append(
            f"  LLM.chat {report['vllm_tps']:.1f} tok/s vs transformers {report['transformers_tps']:.1f} tok/s; "
            f"greedy agreement {report['greedy_exact_match']:.2f} exact, {report['greedy_prefix_share']:.2f} prefix"
        )
    if "batch_invariant_reproduces" in report:
        lines.append(
            f"  batch-invariant re-run (one prompt per batch) reproduces greedy texts: "
            f"{report['batch_invariant_reproduces']} ({report['batch_invariant_same']} same)"
        )
    return "vLLM leg:\n" + "\n".join(lines)


if __name__ == "__main__":
    print("RESULT " + json.dumps(_child(json.loads(sys.argv[1]))), flush=True)
