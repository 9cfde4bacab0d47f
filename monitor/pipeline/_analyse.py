"""The analysis step: split, label, score, embed and measure every response that lacks it.

("analyse" is the spelling of the code; the database column ``analyzer_version`` and the CLI's
``analyze`` alias keep theirs, since renaming them would break stored data and users' scripts.)

Idempotent and resumable: it looks for what is missing (an analysis row, a label under the current
classifier version, an embedding of the answer under the current embedding model) and fills it, one
committed batch at a time, so a crash loses at most the batch in flight. Embeddings are cached by
(text hash, model): a text already embedded, by this run or any other, is never embedded again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.analysis import Embedder, IdentityClassifier, text_hash
from monitor.db import (
    ClassifierVersion,
    Database,
    Embedding,
    Label,
    ProbeSuite,
    Response,
    ResponseAnalysis,
    ReviewerLabel,
    Run,
)
from monitor.pipeline._response_facts import ResponseText, analyse_texts, prompt_text

__all__ = [
    "ANALYSER_VERSION",
    "AnalyseSummary",
    "ProgressCallback",
    "analyse_pending",
    "answer_hash",
    "current_classifier",
    "register_classifier",
    "reviewer_examples",
]

#: Revision of the split / scoring / features code recorded on every analysis row.
ANALYSER_VERSION = "analysis-1"

ProgressCallback = Callable[[int, int], None]
"""``progress(done, total)``: called after each committed batch."""


@dataclass
class AnalyseSummary:
    """What one ``analyse_pending`` call did."""

    pending: int = 0
    analysed: int = 0
    labelled: int = 0
    embedded: int = 0
    embeddings_reused: int = 0
    batches: int = 0
    seconds: float = 0.0
    classifier_version: str = ""
    embedding_model: str = ""


def answer_hash(text: str) -> str:
    """The key of an answer's embedding (sha256 of its UTF-8 text, as in the file comparison's cache)."""
    return text_hash(text)


def register_classifier(session: Session, classifier: IdentityClassifier) -> ClassifierVersion:
    """The ClassifierVersion row of ``classifier``, created on first use (every label points at one)."""
    row = session.get(ClassifierVersion, classifier.version)
    if row is None:
        bundled = classifier.path is None or classifier.path.name.startswith("default-")
        metrics = {**classifier.metrics, "source": "bundled" if bundled else "trained"}
        row = ClassifierVersion(
            version=classifier.version,
            path=str(classifier.path or ""),
            metrics=metrics,
            examples=int(classifier.metrics.get("examples", 0)),
        )
        session.add(row)
        session.flush()
    return row


def current_classifier(db: Database, *, cache_dir: Path | None = None) -> IdentityClassifier:
    """The newest classifier trained with ``drift-monitor classifier train`` that still loads, else the default."""
    with db.session() as session:
        rows = session.scalars(sa.select(ClassifierVersion).order_by(ClassifierVersion.created_at.desc())).all()
        candidates = [(row.path, row.metrics or {}) for row in rows]
    for path, metrics in candidates:
        if metrics.get("source") == "trained" and path and Path(path, "model.json").exists():
            return IdentityClassifier.load(Path(path))
    return IdentityClassifier.load(cache_dir=cache_dir)


def reviewer_examples(db: Database) -> list[tuple[str, str]]:
    """Reviewers' corrections as training pairs (the newest correction per response wins)."""
    with db.session() as session:
        rows = session.execute(
            sa.select(ReviewerLabel.response_id, ReviewerLabel.label, Response.raw_text, Response.server_reasoning)
            .join(Response, Response.id == ReviewerLabel.response_id)
            .order_by(ReviewerLabel.created_at, ReviewerLabel.id)
        ).all()
    newest: dict[int, tuple[str, str]] = {}
    for response_id, label, raw_text, server_reasoning in rows:
        text = raw_text if server_reasoning is None else f"<think>\n{server_reasoning}\n</think>\n\n{raw_text}"
        newest[response_id] = (text, label)
    return list(newest.values())


def _pending_ids(session: Session, *, run_id: int | None, version: str, model_name: str) -> list[int]:
    scope = sa.select(Response.id)
    if run_id is not None:
        scope = scope.where(Response.run_id == run_id)
    no_analysis = scope.where(~sa.exists().where(ResponseAnalysis.response_id == Response.id))
    no_label = scope.where(
        ~sa.exists().where(Label.response_id == Response.id, Label.classifier_version == version)
    )
    no_embedding = (
        sa.select(ResponseAnalysis.response_id)
        .join(Response, Response.id == ResponseAnalysis.response_id)
        .where(
            ~sa.exists().where(Embedding.text_hash == ResponseAnalysis.answer_hash, Embedding.model_name == model_name)
        )
    )
    if run_id is not None:
        no_embedding = no_embedding.where(Response.run_id == run_id)
    ids: set[int] = set()
    for query in (no_analysis, no_label, no_embedding):
        ids.update(session.scalars(query))
    return sorted(ids)


def analyse_pending(
    db: Database,
    *,
    run_id: int | None = None,
    classifier: IdentityClassifier | None = None,
    embedder: Embedder | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = 256,
) -> AnalyseSummary:
    """Analyse every response (of ``run_id``, or all) that lacks an analysis, a label or an embedding.

    ``classifier`` defaults to :func:`current_classifier`, ``embedder`` to the offline MiniLM. Commits
    per batch; safe to interrupt and to run again (a concurrent runner's rows are skipped, not duplicated).
    """
    started = time.perf_counter()
    classifier = classifier or current_classifier(db)
    embedder = embedder or Embedder()
    summary = AnalyseSummary(classifier_version=classifier.version, embedding_model=embedder.model_name)
    with db.session() as session:
        register_classifier(session, classifier)
        pending = _pending_ids(session, run_id=run_id, version=classifier.version, model_name=embedder.model_name)
    summary.pending = len(pending)
    if progress is not None:
        progress(0, len(pending))
    suites: dict[int, dict[str, dict[str, Any]]] = {}
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        for attempt in range(2):
            counts = AnalyseSummary()
            try:
                with db.session() as session:
                    _analyse_batch(session, batch, classifier, embedder, suites, counts)
                break
            except IntegrityError:
                # Another analyser stored some of these rows first; the retry skips what now exists.
                if attempt == 1:
                    raise
        summary.analysed += counts.analysed
        summary.labelled += counts.labelled
        summary.embedded += counts.embedded
        summary.embeddings_reused += counts.embeddings_reused
        summary.batches += 1
        if progress is not None:
            progress(min(start + batch_size, len(pending)), len(pending))
    summary.seconds = time.perf_counter() - started
    return summary


def _probe_index(session: Session, suite_id: int, suites: dict[int, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    if suite_id not in suites:
        content = session.scalar(sa.select(ProbeSuite.content).where(ProbeSuite.id == suite_id)) or {}
        suites[suite_id] = {
            str(probe.get("id")): probe for probe in content.get("probes", []) if isinstance(probe, dict)
        }
    return suites[suite_id]


def _analyse_batch(
    session: Session,
    ids: Sequence[int],
    classifier: IdentityClassifier,
    embedder: Embedder,
    suites: dict[int, dict[str, dict[str, Any]]],
    summary: AnalyseSummary,
) -> None:
    responses = session.execute(
        sa.select(Response, Run.suite_id).join(Run, Run.id == Response.run_id).where(Response.id.in_(ids))
    ).all()
    existing = {row.response_id: row for row in session.scalars(
        sa.select(ResponseAnalysis).where(ResponseAnalysis.response_id.in_(ids))
    )}
    labelled = set(session.scalars(
        sa.select(Label.response_id).where(Label.response_id.in_(ids), Label.classifier_version == classifier.version)
    ))

    new: list[tuple[Response, dict[str, Any]]] = []
    answers: dict[int, tuple[str, str | None]] = {}
    for response, suite_id in responses:
        analysis = existing.get(response.id)
        if analysis is not None:
            answers[response.id] = (analysis.answer_text, analysis.reasoning_text)
        else:
            new.append((response, _probe_index(session, suite_id, suites).get(response.probe_id, {})))
    texts = [
        ResponseText(
            raw_text=response.raw_text,
            finish_reason=response.finish_reason,
            server_reasoning=response.server_reasoning,
            prompt=prompt_text(response.prompt),
            prompt_language=probe.get("language"),
            expected=probe.get("expected") if response.category == "reasoning" else None,
        )
        for response, probe in new
    ]
    for (response, _), facts in zip(new, analyse_texts(texts), strict=True):
        split, features, score = facts.split, facts.features, facts.score
        answers[response.id] = (split.answer, split.reasoning)
        session.add(
            ResponseAnalysis(
                response_id=response.id,
                analyzer_version=ANALYSER_VERSION,
                reasoning_text=split.reasoning,
                answer_text=split.answer,
                think_state=split.think_state,
                truncated=features.truncated,
                answer_chars=features.answer_chars,
                think_chars=features.think_chars,
                language=features.language,
                prompt_language=features.prompt_language,
                answer_hash=answer_hash(split.answer),
                extracted_answer=score.extracted if score else None,
                extraction_method=score.method if score else None,
                correct=score.correct if score else None,
            )
        )
        summary.analysed += 1

    to_label = [response_id for response_id in answers if response_id not in labelled]
    if to_label:
        results = classifier.classify_parts([answers[i][0] for i in to_label], [answers[i][1] for i in to_label])
        for response_id, result in zip(to_label, results, strict=True):
            session.add(
                Label(
                    response_id=response_id,
                    classifier_version=classifier.version,
                    label=result.label,
                    reasoning_label=result.reasoning_label,
                    confidence=result.confidence,
                    evidence=result.evidence,
                )
            )
        summary.labelled += len(to_label)

    _embed_missing(session, (answer for answer, _ in answers.values()), embedder, summary)
    session.flush()


def _embed_missing(session: Session, texts: Iterable[str], embedder: Embedder, summary: AnalyseSummary) -> None:
    by_hash: dict[str, str] = {}
    for text in texts:
        by_hash.setdefault(answer_hash(text), text)
    if not by_hash:
        return
    known = set(session.scalars(
        sa.select(Embedding.text_hash).where(
            Embedding.model_name == embedder.model_name, Embedding.text_hash.in_(list(by_hash))
        )
    ))
    summary.embeddings_reused += len(known)
    missing = [digest for digest in by_hash if digest not in known]
    if not missing:
        return
    vectors = embedder.encode([by_hash[digest] for digest in missing])
    for digest, vector in zip(missing, vectors, strict=True):
        session.add(
            Embedding(
                text_hash=digest,
                model_name=embedder.model_name,
                dim=int(vector.shape[0]),
                vector=np.asarray(vector, dtype=np.float32).tobytes(),
            )
        )
    summary.embedded += len(missing)
