"""The suite model: probes, their sampling, and a suite whose identity is its content hash."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from monitor.engines._protocol import Message, Sampling

__all__ = ["REASONING_INSTRUCTION", "Probe", "ProbeCategory", "Suite", "SuiteSampling"]

ProbeCategory = Literal["identity", "reasoning", "format"]
#: The instruction DeepSeek uses for math evaluation; every reasoning prompt ends with it.
REASONING_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

_CATEGORIES: tuple[str, ...] = get_args(ProbeCategory)
_ROLES = ("system", "user", "assistant")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$")
_LANGUAGE_RE = re.compile(r"^[a-z]{2}$")
_SUITE_KEYS = ("name", "version", "description", "sampling", "defaults", "probes")
_DEFAULTS_KEYS = ("category", "language")
_PROBE_KEYS = ("id", "category", "language", "tags", "system", "prompt", "messages", "expected")
_SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "samples", "greedy")


@dataclass(frozen=True)
class Probe:
    """One question: the chat messages sent to the model, and what is known about the right answer."""

    id: str
    category: ProbeCategory
    messages: tuple[Message, ...]
    language: str
    tags: tuple[str, ...] = ()
    expected: str | None = None

    @property
    def prompt(self) -> str:
        """The last user message: the question itself, for tables and exports."""
        return next(message.content for message in reversed(self.messages) if message.role == "user")

    def content(self) -> dict[str, Any]:
        """Canonical JSON-able form (part of the suite's content)."""
        return {
            "id": self.id,
            "category": self.category,
            "language": self.language,
            "tags": list(self.tags),
            "messages": [{"role": message.role, "content": message.content} for message in self.messages],
            "expected": self.expected,
        }


@dataclass(frozen=True)
class SuiteSampling:
    """How each probe is sampled: ``samples`` sampled responses (indices 1..samples) plus one greedy (index 0)."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 2048
    samples: int = 8
    greedy: bool = True

    def sample_indices(self) -> range:
        """The sample indices a run generates for every probe: 0 when greedy, then 1..samples."""
        return range(0 if self.greedy else 1, self.samples + 1)

    def sampling_for(self, sample_index: int) -> Sampling:
        """Engine sampling for one sample index: temperature 0 (argmax) for index 0, the suite's otherwise."""
        if sample_index not in self.sample_indices():
            raise ValueError(f"sample index {sample_index} is outside {self.sample_indices()}")
        if sample_index == 0:
            return Sampling(temperature=0.0, top_p=1.0, max_tokens=self.max_tokens)
        return Sampling(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens)


@dataclass(frozen=True)
class Suite:
    """A named, versioned set of probes with its sampling; its identity is :attr:`content_hash`."""

    name: str
    version: int
    description: str
    sampling: SuiteSampling
    probes: tuple[Probe, ...]

    def content(self) -> dict[str, Any]:
        """Canonical JSON-able content: what is stored in ``probe_suites.content`` and hashed."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "sampling": asdict(self.sampling),
            "probes": [probe.content() for probe in self.probes],
        }

    @functools.cached_property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`content`; equal hashes mean comparable runs."""
        canonical = json.dumps(
            self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def category_counts(self) -> dict[str, int]:
        """Number of probes per category, in a fixed order, omitting empty categories."""
        counts = {category: 0 for category in _CATEGORIES}
        for probe in self.probes:
            counts[probe.category] += 1
        return {category: count for category, count in counts.items() if count}

