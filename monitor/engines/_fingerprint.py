"""Black-box fingerprints of a served model: greedy answers to fixed prompts, with their token logprobs.

An endpoint has no commit hash, so "which model is this?" is answered by behaviour: the greedy
continuation of a fixed prompt set (temperature 0, fixed seed, few tokens) is a function of weights,
tokenizer, chat template and system prompt, and it is cheap. Where the server returns logprobs, the
log probability of each greedy token adds a finer signal: a re-quantised or re-served model often keeps
its greedy text but not its logprobs. Comparison is pure (data in, verdict out); taking one needs an
``OpenAIEngine``.

Servers batch requests, and on a GPU that makes greedy decoding only almost deterministic: a near tie can
flip one token. So a text change is only believed when a fresh fingerprint confirms it (the pipeline
re-takes it), and logprobs are compared by the median over prompts of the mean absolute difference,
which one noisy prompt cannot move.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.engines._protocol import GenerationRequest, Message, Sampling
from monitor.errors import ComparisonError

if TYPE_CHECKING:
    from monitor.engines._openai import OpenAIEngine

__all__ = [
    "FINGERPRINT_PROMPTS",
    "FINGERPRINT_VERSION",
    "Fingerprint",
    "FingerprintDiff",
    "FingerprintEntry",
    "compare_fingerprints",
    "take_fingerprint",
]

FINGERPRINT_VERSION = 1
# Short, varied prompts whose greedy answers differ between models: identity, facts, arithmetic,
# code, translation, a list, and an open continuation that a system prompt or template change colours.
FINGERPRINT_PROMPTS: tuple[tuple[str, str], ...] = (
    ("identity", "Who are you? Answer in one sentence."),
    ("capital", "What is the capital of Australia?"),
    ("arithmetic", "What is 17 * 23? Reply with the number only."),
    ("code", "Write a Python function that returns the square of x."),
    ("translate", "Translate to French: The weather is nice today."),
    ("list", "Name three primary colors."),
    ("story", "Continue the story: The old lighthouse keeper opened the door and"),
    ("definition", "Define entropy in one sentence."),
)


@dataclass(frozen=True)
class FingerprintEntry:
    """The greedy answer to one fingerprint prompt."""

    prompt_id: str
    text: str
    finish_reason: str
    tokens: list[str] | None = None
    logprobs: list[float] | None = None


@dataclass(frozen=True)
class Fingerprint:
    """A served model's answers to the fingerprint prompts, with how they were asked."""

    served_model: str
    entries: tuple[FingerprintEntry, ...]
    max_tokens: int
    seed: int
    version: int = FINGERPRINT_VERSION
    system_fingerprint: str | None = None

    def content_hash(self) -> str:
        """sha256 of what the model said (texts, and logprobs to 2 decimals): the endpoint's 'revision'."""
        canonical = [
            [e.prompt_id, e.text, [round(lp, 2) for lp in e.logprobs] if e.logprobs is not None else None]
            for e in sorted(self.entries, key=lambda e: e.prompt_id)
        ]
        payload = json.dumps([self.version, self.max_tokens, canonical], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored as a revision's ``fingerprints``."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        """Read back what ``to_dict`` wrote."""
        try:
            entries = tuple(FingerprintEntry(**entry) for entry in data["entries"])
            return cls(
                served_model=str(data["served_model"]),
                entries=entries,
                max_tokens=int(data["max_tokens"]),
                seed=int(data["seed"]),
                version=int(data.get("version", FINGERPRINT_VERSION)),
                system_fingerprint=data.get("system_fingerprint"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ComparisonError(f"a stored endpoint fingerprint is unreadable ({exc}); check it again") from None


@dataclass(frozen=True)
class FingerprintDiff:
    """How two fingerprints differ; ``changed`` is the verdict, the rest is the evidence."""

    comparable: bool
    changed: bool
    text_changed: list[str] = field(default_factory=list)
    logprob_delta: dict[str, float] = field(default_factory=dict)
    median_logprob_delta: float | None = None
    compared: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in a change event's details."""
        return asdict(self)


def take_fingerprint(
    engine: OpenAIEngine,
    *,
    prompts: Sequence[tuple[str, str]] = FINGERPRINT_PROMPTS,
    max_tokens: int = 24,
    seed: int = 0,
    top_logprobs: int = 5,
) -> Fingerprint:
    """Ask every prompt greedily (temperature 0, fixed seed) and record answers and token logprobs."""
    sampling = Sampling(temperature=0.0, top_p=1.0, max_tokens=max_tokens)
    requests = [
        GenerationRequest(prompt_id, 0, (Message("user", prompt),), sampling, seed=seed)
        for prompt_id, prompt in prompts
    ]
    entries: dict[str, FingerprintEntry] = {}
    system_fingerprint = None
    for scored in engine.generate_scored(requests, top_logprobs=top_logprobs):
        generation = scored.generation
        system_fingerprint = system_fingerprint or scored.system_fingerprint
        entries[generation.probe_id] = FingerprintEntry(
            prompt_id=generation.probe_id,
            text=generation.text,
            finish_reason=generation.finish_reason,
            tokens=[t.token for t in scored.tokens] if scored.tokens is not None else None,
            logprobs=[t.logprob for t in scored.tokens] if scored.tokens is not None else None,
        )
    return Fingerprint(
        served_model=engine.served_model,
        entries=tuple(entries[prompt_id] for prompt_id, _ in prompts),
        max_tokens=max_tokens,
        seed=seed,
        system_fingerprint=system_fingerprint,
    )


def compare_fingerprints(old: Fingerprint, new: Fingerprint, *, logprob_tolerance: float = 0.1) -> FingerprintDiff:
    """Did the served model change? Any greedy text differing, or logprobs moving beyond the tolerance.

    The logprob signal is the median, over prompts whose text did not change, of the mean absolute
    difference of the greedy tokens' logprobs (nats). Fingerprints taken with another prompt set, token
    budget or fingerprint version are not comparable: that is a new baseline, not a change.
    """
    if old.version != new.version or old.max_tokens != new.max_tokens:
        return FingerprintDiff(comparable=False, changed=False, reason="taken with a different probe set version")
    old_entries = {e.prompt_id: e for e in old.entries}
    shared = [e for e in new.entries if e.prompt_id in old_entries]
    if not shared:
        return FingerprintDiff(comparable=False, changed=False, reason="no fingerprint prompt in common")
    text_changed = [e.prompt_id for e in shared if e.text != old_entries[e.prompt_id].text]
    deltas: dict[str, float] = {}
    for entry in shared:
        before = old_entries[entry.prompt_id]
        if entry.prompt_id in text_changed or entry.logprobs is None or before.logprobs is None:
            continue
        if entry.tokens != before.tokens or not entry.logprobs:
            continue
        pairs = zip(entry.logprobs, before.logprobs, strict=True)
        deltas[entry.prompt_id] = statistics.fmean(abs(a - b) for a, b in pairs)
    median = statistics.median(deltas.values()) if deltas else None
    logprobs_moved = median is not None and median > logprob_tolerance
    reasons = []
    if text_changed:
        reasons.append(f"greedy answer changed for {len(text_changed)} of {len(shared)} prompts")
    if logprobs_moved:
        reasons.append(f"median logprob shift {median:.3f} nats > {logprob_tolerance}")
    return FingerprintDiff(
        comparable=True,
        changed=bool(text_changed) or logprobs_moved,
        text_changed=text_changed,
        logprob_delta={k: round(v, 6) for k, v in deltas.items()},
        median_logprob_delta=round(median, 6) if median is not None else None,
        compared=len(shared),
        reason="; ".join(reasons) or "same answers",
    )
