"""The analysed responses of some runs as a ``ResponseSet``: what a comparison compares.

Every response must be analysed; identity labels come from one classifier version (the newest that
labelled them all, unless one is named) and embeddings from the embedding model with the most coverage.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.db import ClassifierVersion, Embedding, Label, Response, ResponseAnalysis, Run
from monitor.drift import Category, ResponseRecord, ResponseSet, ThinkState
from monitor.errors import ComparisonError

__all__ = ["response_set_for_runs"]

_T = TypeVar("_T")
_IN_CHUNK = 500  # keep IN (...) lists well under SQLite's variable limit


def response_set_for_runs(
    session: Session,
    runs: Sequence[Run],
    *,
    name: str,
    expected_identity: str | None = None,
    classifier_version: str | None = None,
    embedding_model: str | None = None,
    probe_prefix: str = "",
) -> ResponseSet:
    """The analysed responses of some runs of one revision as a ResponseSet.

    Every response must have its ResponseAnalysis; identity labels come from ``classifier_version``
    (default: the newest version that labelled all identity responses), embeddings from the embedding
    model with the most coverage (responses without one simply have no embedding).
    """
    records: list[ResponseRecord] = []
    run_ids = [run.id for run in runs]
    rows = session.execute(
        sa.select(Response, ResponseAnalysis)
        .outerjoin(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
        .where(Response.run_id.in_(run_ids))
        .order_by(Response.run_id, Response.probe_id, Response.sample_index)
    ).all()
    missing = sorted({response.run_id for response, analysis in rows if analysis is None})
    if missing:
        count = sum(1 for _, analysis in rows if analysis is None)
        raise ComparisonError(
            f"{count} responses of run(s) {', '.join(map(str, missing))} are not analysed yet; "
            f"run: drift-monitor analyse --run {missing[0]}"
        )
    identity_ids = [response.id for response, _ in rows if response.category == "identity"]
    version = classifier_version or _classifier_version(session, identity_ids)
    labels = _labels(session, identity_ids, version) if version else {}
    unlabelled = [rid for rid in identity_ids if rid not in labels]
    if unlabelled:
        raise ComparisonError(
            f"{len(unlabelled)} identity responses have no label"
            + (f" from classifier version {version}" if version else "")
            + "; run: drift-monitor analyse"
        )
    vectors = _embeddings(session, [analysis.answer_hash for _, analysis in rows], embedding_model)
    for response, analysis in rows:
        label = labels.get(response.id)
        category = response.category if response.category in ("identity", "reasoning") else "format"
        think_state = analysis.think_state if analysis.think_state in _THINK_STATES else "absent"
        records.append(
            ResponseRecord(
                probe_id=probe_prefix + response.probe_id,
                sample_index=response.sample_index,
                category=cast(Category, category),
                label=label[0] if label else None,
                reasoning_label=label[1] if label else None,
                correct=analysis.correct,
                think_state=cast(ThinkState, think_state),
                truncated=analysis.truncated,
                answer_chars=analysis.answer_chars,
                completion_tokens=response.completion_tokens,
                language=analysis.language,
                prompt_language=analysis.prompt_language,
                embedding=vectors.get(analysis.answer_hash),
                answer_text=analysis.answer_text,
                extracted=analysis.extracted_answer,
            )
        )
    first = runs[0]
    return ResponseSet(
        tuple(records),
        suite_hash=first.suite.content_hash,
        sampling=dict(first.sampling),
        engine=first.engine,
        engine_version=", ".join(sorted({run.engine_version for run in runs if run.engine_version})) or None,
        expected_identity=expected_identity,
        name=name,
        run_ids=tuple(run_ids),
    )


_THINK_STATES = ("present", "forced_open", "unterminated", "absent")


# -- labels and embeddings


def _chunks(values: Sequence[_T]) -> Iterable[list[_T]]:
    items = list(values)
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _classifier_version(session: Session, response_ids: Sequence[int]) -> str | None:
    """The newest classifier version that labelled every one of these responses (else the most complete).

    Baseline and candidate are read with one version, so a retrained classifier is never mistaken for drift.
    """
    if not response_ids:
        return None
    coverage: dict[str, int] = {}
    newest: dict[str, str] = {}
    for chunk in _chunks(response_ids):
        for version, count, latest in session.execute(
            sa.select(Label.classifier_version, sa.func.count(), sa.func.max(Label.created_at))
            .where(Label.response_id.in_(chunk))
            .group_by(Label.classifier_version)
        ):
            coverage[version] = coverage.get(version, 0) + int(count)
            newest[version] = max(newest.get(version, ""), str(latest))
    if not coverage:
        return None
    created = {
        v: str(c) for v, c in session.execute(sa.select(ClassifierVersion.version, ClassifierVersion.created_at))
    }
    complete = [v for v, n in coverage.items() if n >= len(response_ids)]
    if complete:
        return max(complete, key=lambda v: (created.get(v, newest[v]), v))
    return max(coverage, key=lambda v: (coverage[v], v))


def _labels(session: Session, response_ids: Sequence[int], version: str) -> dict[int, tuple[str, str | None]]:
    labels: dict[int, tuple[str, str | None]] = {}
    for chunk in _chunks(response_ids):
        for response_id, label, reasoning_label in session.execute(
            sa.select(Label.response_id, Label.label, Label.reasoning_label).where(
                Label.response_id.in_(chunk), Label.classifier_version == version
            )
        ):
            labels[response_id] = (label, reasoning_label)
    return labels


def _embeddings(session: Session, hashes: Sequence[str], model_name: str | None) -> dict[str, np.ndarray]:
    """Answer embeddings by text hash, from one embedding model (the given one, or the best covered)."""
    wanted = sorted(set(hashes))
    found: dict[str, dict[str, np.ndarray]] = {}
    for chunk in _chunks(wanted):
        query = sa.select(Embedding).where(Embedding.text_hash.in_(chunk))
        if model_name is not None:
            query = query.where(Embedding.model_name == model_name)
        for row in session.scalars(query):
            found.setdefault(row.model_name, {})[row.text_hash] = _vector(row)
    if not found:
        return {}
    best = max(found, key=lambda name: (len(found[name]), name))
    return found[best]


def _vector(row: Embedding) -> np.ndarray:
    raw = bytes(row.vector)
    dtype = np.float32 if len(raw) == 4 * row.dim else np.float64
    vector = np.frombuffer(raw, dtype=dtype).astype(np.float64)
    if vector.size != row.dim:
        raise ComparisonError(f"embedding {row.id} has {vector.size} values, expected {row.dim}; re-embed it")
    return vector


