"""Grouping of samples for engines that can draw several samples of one prompt in one request (n > 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.engines._protocol import GenerationRequest

__all__ = ["group_samples"]


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
