"""The Engine seam: what a generation request is, what comes back, and what an engine must do.

Requests carry everything that determines an output (messages, sampling, seed), so an engine is a pure
function of its inputs and the loaded weights; the worker process owns persistence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "Engine",
    "EngineSpec",
    "FinishReason",
    "Generation",
    "GenerationRequest",
    "Message",
    "Sampling",
    "request_seed",
]

FinishReason = Literal["stop", "length", "error"]


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters; temperature 0 means greedy."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 2048

    @property
    def greedy(self) -> bool:
        """True when decoding is deterministic argmax."""
        return self.temperature == 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for storage and hashing."""
        return asdict(self)


@dataclass(frozen=True)
class GenerationRequest:
    """One sample of one probe: the unit the worker generates and stores."""

    probe_id: str
    sample_index: int
    messages: tuple[Message, ...]
    sampling: Sampling
    seed: int = 0


@dataclass(frozen=True)
class Generation:
    """An engine's answer to one request."""

    probe_id: str
    sample_index: int
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: FinishReason
    latency_s: float
    reasoning: str | None = None  # set only when a server already split reasoning from the answer


@dataclass(frozen=True)
class EngineSpec:
    """Everything needed to build an engine inside the worker process (must pickle)."""

    kind: str
    model: str
    revision: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    """A loaded model that turns requests into generations, in any order, streaming as they finish."""

    kind: str

    @property
    def version(self) -> str:
        """Engine library and version, e.g. ``transformers 4.46.0``: a confounder in comparisons."""
        ...

    @property
    def device(self) -> str:
        """Where it runs, e.g. ``cpu`` or the GPU name."""
        ...

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate every request; yields as results become available."""
        ...

    def close(self) -> None:
        """Release the model (memory, GPU)."""
        ...


def request_seed(run_seed: int, probe_id: str, sample_index: int) -> int:
    """A stable per-request seed, so a resumed run samples exactly what the first attempt would have."""
    digest = hashlib.sha256(json.dumps([run_seed, probe_id, sample_index]).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
