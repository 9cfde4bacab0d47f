"""The baseline process of ``bench_generation``: plain ``transformers`` ``generate``, nothing of the monitor.

Reads the prompts (already chat-templated by the benchmark) from a JSON file, loads the model, generates
them in batches of similar length (the same grouping the engine does) with the library's own sampling,
and prints one JSON line: the generated token count, counted as the engine counts (up to and including
the first end-of-sequence token). It imports only torch and transformers, so its wall time is what a
user of the bare library would wait.
Run: python tests/benchmarks/_direct_generate.py PROMPTS.json MODEL_DIR --batch-size 8 --dtype float32
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("prompts")
    parser.add_argument("model_dir")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()

    import torch
    import transformers

    transformers.utils.logging.disable_progress_bar()
    spec = json.loads(Path(args.prompts).read_text(encoding="utf-8"))
    prompts = sorted(spec["prompts"], key=len)
    tokenizer = transformers.AutoTokenizer.from_pretrained(args.model_dir, padding_side="left")
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model_dir, dtype=getattr(torch, args.dtype))
    model.eval()
    eos = tokenizer.eos_token_id
    tokens = 0
    for start in range(0, len(prompts), args.batch_size):
        encoded = tokenizer(
            prompts[start : start + args.batch_size], return_tensors="pt", padding=True, add_special_tokens=False
        )
        with torch.inference_mode():
            out = model.generate(
                **encoded,
                max_new_tokens=spec["max_tokens"],
                do_sample=True,
                temperature=spec["temperature"],
                top_p=spec["top_p"],
                pad_token_id=eos,
            )
        for row in out[:, encoded["input_ids"].shape[1] :].tolist():
            tokens += row.index(eos) + 1 if eos in row else len(row)
    print(json.dumps({"tokens": tokens, "in_process_s": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
