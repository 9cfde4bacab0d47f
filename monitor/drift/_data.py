"""What drift detection compares: response sets, one analysed record per response, plus what ran them.

These are plain values filled by the pipeline (from the database) or by the file-mode loader (from export
JSONL); nothing here reads a database or runs a model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from monitor.errors import ComparisonError

__all__ = ["Category", "ResponseRecord", "ResponseSet", "ThinkState"]

Category = Literal["identity", "reasoning", "format"]
ThinkState = Literal["present", "forced_open", "unterminated", "absent"]


@dataclass(frozen=True, eq=False)
class ResponseRecord:
    """One analysed response: the features every drift metric is computed from.

    ``label`` is the identity label of the final answer (None when not classified); ``correct`` is the
    reasoning score against the gold answer (None when there is no gold answer or it was not scored);
    ``extracted`` is the extracted final answer, used for the answer-mismatch rate.
    """

    probe_id: str
    sample_index: int
    category: Category
    label: str | None = None
    reasoning_label: str | None = None
    correct: bool | None = None
    think_state: ThinkState = "absent"
    truncated: bool = False
    answer_chars: int = 0
    completion_tokens: int | None = None
    language: str | None = None
    prompt_language: str | None = None
    embedding: np.ndarray | None = None
    answer_text: str = ""
    extracted: str | None = None

    @property
    def think_present(self) -> bool:
        """True when the response has a reasoning block at all (closed, forced open, or cut off)."""
        return self.think_state != "absent"


@dataclass(frozen=True, eq=False)
class ResponseSet:
    """All analysed responses of one revision for one suite content and sampling, with what ran them.

    ``suite_hash`` and ``sampling`` decide what may be compared (None means unknown, as in file mode);
    ``engine`` and ``engine_version`` are confounders reported in the notes. ``name`` labels the set in
    reports (a revision sha or a file name).
    """

    records: tuple[ResponseRecord, ...]
    suite_hash: str | None = None
    sampling: Mapping[str, Any] | None = None
    engine: str | None = None
    engine_version: str | None = None
    expected_identity: str | None = None
    name: str = ""
    run_ids: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", tuple(self.records))

    def __len__(self) -> int:
        return len(self.records)

    @property
    def probe_ids(self) -> list[str]:
        """Probe ids in first-seen order."""
        return list(dict.fromkeys(record.probe_id for record in self.records))

    def by_probe(self) -> dict[str, list[ResponseRecord]]:
        """Records grouped by probe, in sample order."""
        groups: dict[str, list[ResponseRecord]] = {}
        for record in self.records:
            groups.setdefault(record.probe_id, []).append(record)
        for records in groups.values():
            records.sort(key=lambda r: r.sample_index)
        return groups

    def restricted_to(self, probe_ids: Iterable[str]) -> ResponseSet:
        """The same set with only the given probes (used to compare on the probes both sides ran)."""
        keep = set(probe_ids)
        return replace(self, records=tuple(r for r in self.records if r.probe_id in keep))

    @classmethod
    def merge(cls, sets: Sequence[ResponseSet], *, name: str | None = None) -> ResponseSet:
        """Pool several runs of one revision (same suite and sampling) into one set.

        Raises ComparisonError when the runs are not like with like, since pooling them would mix
        different experiments.
        """
        if not sets:
            raise ComparisonError("nothing to merge: no response sets were given")
        first = sets[0]
        for other in sets[1:]:
            _require_same_setup(first, other, what="runs of one revision")
        records = tuple(record for response_set in sets for record in response_set.records)
        run_ids = tuple(run_id for response_set in sets for run_id in response_set.run_ids)
        return replace(first, records=records, name=first.name if name is None else name, run_ids=run_ids)


def _require_same_setup(a: ResponseSet, b: ResponseSet, *, what: str) -> None:
    """Refuse sets made with different suite content or sampling: their differences are not drift."""
    if a.suite_hash is not None and b.suite_hash is not None and a.suite_hash != b.suite_hash:
        raise ComparisonError(
            f"{what} used different probe suite content (hash {a.suite_hash[:12]} vs {b.suite_hash[:12]}); "
            "run both with the same suite version before comparing"
        )
    if a.sampling is not None and b.sampling is not None and dict(a.sampling) != dict(b.sampling):
        keys = sorted(set(a.sampling) | set(b.sampling))
        diffs = ", ".join(
            f"{key} {a.sampling.get(key, 'unset')!r} vs {b.sampling.get(key, 'unset')!r}"
            for key in keys
            if a.sampling.get(key) != b.sampling.get(key)
        )
        raise ComparisonError(f"{what} used different sampling ({diffs}); run both with the same sampling settings")
