"""Generation throughput of the monitor's transformers engine next to direct ``model.generate``.

Same prompts, same process, same model (SmolLM2-135M on CPU). The engine adds chat templating, left
padding, per-request seeded sampling and finish-reason bookkeeping; the target is >= 0.9 of direct.
Run: .venv/bin/python -m tests.benchmarks.bench_generation [--max-tokens 48] [--prompts 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from monitor._smollm import materialize_smollm2
from monitor.engines import TransformersEngine
from monitor.pipeline import plan_run
from monitor.probes import load_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--batch-sizes", default="1,4,8,16")
    parser.add_argument("--model-dir", type=Path, default=Path(tempfile.gettempdir()) / "drift-monitor-bench-smollm2")
    args = parser.parse_args()

    import torch

    model_dir = materialize_smollm2(args.model_dir)
    plan = plan_run(load_suite("identity"), samples=1, limit=args.prompts // 2, max_tokens=args.max_tokens)
    requests = [item.request for item in plan.items][: args.prompts]
    print(f"{len(requests)} requests, max_tokens={args.max_tokens}, torch threads={torch.get_num_threads()}")
    print(f"{'batch':>5} {'engine tok/s':>13} {'direct tok/s':>13} {'ratio':>6}")
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        engine = TransformersEngine(model_dir, batch_size=batch_size)
        prompts = [engine.prompt_text(r) for r in requests]
        # Warm-up, then the engine.
        list(engine.generate(requests[:batch_size]))
        started = time.perf_counter()
        tokens = sum(g.completion_tokens or 0 for g in engine.generate(requests))
        engine_rate = tokens / (time.perf_counter() - started)
        # Direct: the same prompts, batched the same way, plain sampling, no bookkeeping.
        model, tokenizer = engine._model, engine._tokenizer
        direct_tokens, started = 0, time.perf_counter()
        for start in range(0, len(prompts), batch_size):
            chunk = prompts[start : start + batch_size]
            encoded = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.inference_mode():
                out = model.generate(
                    **encoded,
                    max_new_tokens=args.max_tokens,
                    do_sample=True,
                    temperature=0.6,
                    top_p=0.95,
                    pad_token_id=tokenizer.pad_token_id,
                )
            new = out[:, encoded["input_ids"].shape[1] :]
            direct_tokens += int((new != tokenizer.pad_token_id).sum())
        direct_rate = direct_tokens / (time.perf_counter() - started)
        print(f"{batch_size:>5} {engine_rate:>13.1f} {direct_rate:>13.1f} {engine_rate / direct_rate:>6.2f}")
        engine.close()


if __name__ == "__main__":
    main()
