"""How requests are grouped for an engine: samples of one prompt (n > 1), and batches packed by length."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.engines._protocol import GenerationRequest

__all__ = ["group_samples", "pack_by_length"]


def group_samples(requests: Sequence[GenerationRequest]) -> list[list[GenerationRequest]]:
    """Requests of one probe with identical messages and sampling, each group ordered by sample index.

    A group is sent as one request with ``n = len(group)`` and the first request's seed: cheaper (the
    prompt is processed once) but a resumed run then draws its missing samples from a different seed
    than the first attempt would have; that is why grouping is an opt-in engine option.
    """
    groups: dict[tuple[Any, ...], list[GenerationRequest]] = {}
    for request in requests:
        groups.setdefault((request.probe_id, request.messages, request.sampling), []).append(request)
    return [sorted(group, key=lambda r: r.sample_index) for group in groups.values()]


def pack_by_length(
    prompt_lengths: Sequence[int],
    *,
    max_tokens: int,
    token_bytes: int,
    row_bytes: int,
    budget_bytes: int | None,
    cap: int,
) -> list[int]:
    """Consecutive batch sizes for prompts sorted by length: each batch as large as ``cap`` and memory allow.

    A batch is padded to its longest prompt, so a row costs ``(longest + max_tokens) * token_bytes +
    row_bytes``; a batch takes prompts while its rows fit ``budget_bytes`` (no limit when None). Short
    prompts therefore go in large batches and long ones in small batches; a prompt too long for the
    budget on its own still gets a batch of one (the model's own limits decide then).
    """
    sizes: list[int] = []
    count, longest = 0, 0
    for length in prompt_lengths:
        wider = max(longest, length)
        row = (wider + max_tokens) * token_bytes + row_bytes
        fits = budget_bytes is None or (count + 1) * row <= budget_bytes
        if count and (count >= cap or not fits):
            sizes.append(count)
            count, wider = 0, length
        count, longest = count + 1, wider
    if count:
        sizes.append(count)
    return sizes
