"""Small response-set builders for the drift tests (deterministic given a seed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from monitor.drift import ResponseRecord, ResponseSet

LABELS = ("deepseek", "openai", "none")


def identity_set(
    mix: Sequence[float],
    *,
    seed: int,
    probes: int = 20,
    samples: int = 8,
    name: str = "set",
    think_absent: float = 0.02,
    embed: bool = True,
    **metadata: Any,
) -> ResponseSet:
    """Identity responses whose labels follow ``mix`` over LABELS; embeddings cluster by label."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).normal(size=(len(LABELS), 8))
    records = []
    for probe in range(probes):
        labels = rng.choice(len(LABELS), size=samples, p=np.asarray(mix) / np.sum(mix))
        for sample, index in enumerate(labels):
            label = LABELS[int(index)]
            records.append(
                ResponseRecord(
                    probe_id=f"who-{probe:02d}",
                    sample_index=sample,
                    category="identity",
                    label=label,
                    think_state="absent" if rng.random() < think_absent else "present",
                    truncated=bool(rng.random() < 0.02),
                    answer_chars=int(rng.integers(40, 120)),
                    completion_tokens=int(rng.integers(100, 400)),
                    language="en",
                    prompt_language="en",
                    embedding=(centres[int(index)] + 0.3 * rng.normal(size=8)) if embed else None,
                    answer_text=f"I am {label}.",
                )
            )
    metadata.setdefault("suite_hash", "identity-hash")
    metadata.setdefault("sampling", {"temperature": 0.6, "top_p": 0.95})
    metadata.setdefault("expected_identity", "deepseek")
    return ResponseSet(tuple(records), name=name, **metadata)


def reasoning_set(
    accuracy: Sequence[float], *, seed: int, samples: int = 4, name: str = "set", **metadata: Any
) -> ResponseSet:
    """Reasoning responses: problem i is answered correctly with probability accuracy[i]."""
    rng = np.random.default_rng(seed)
    records = []
    for problem, p in enumerate(accuracy):
        for sample in range(samples):
            correct = bool(rng.random() < p)
            answer = "42" if correct else str(int(rng.integers(0, 3)))
            records.append(
                ResponseRecord(
                    probe_id=f"math-{problem:02d}",
                    sample_index=sample,
                    category="reasoning",
                    correct=correct,
                    extracted=answer,
                    think_state="present",
                    answer_chars=int(rng.integers(200, 900)),
                    completion_tokens=int(rng.integers(500, 3000)),
                    answer_text=f"The answer is \\boxed{{{answer}}}.",
                )
            )
    metadata.setdefault("suite_hash", "reasoning-hash")
    metadata.setdefault("sampling", {"temperature": 0.6, "top_p": 0.95})
    return ResponseSet(tuple(records), name=name, **metadata)
