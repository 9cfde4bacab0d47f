from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
import sqlalchemy as sa

from monitor.analysis import Embedder, IdentityClassifier
from monitor.db import ClassifierVersion, Database, Embedding, Label, Response, ResponseAnalysis
from monitor.pipeline import analyse_pending, reviewer_examples
from tests.analysis._responses import RESPONSES, add_reviewer_label, store_run


class CountingEmbedder(Embedder):
    """The real embedder, counting the texts it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__()
        self.__dict__.update(inner.__dict__)
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts)


def _rows(db: Database) -> dict[tuple[str, int], tuple[Response, ResponseAnalysis, Label]]:
    with db.session() as session:
        rows = session.execute(
            sa.select(Response, ResponseAnalysis, Label)
            .join(ResponseAnalysis, ResponseAnalysis.response_id == Response.id)
            .join(Label, Label.response_id == Response.id)
        ).all()
        session.expunge_all()
    return {(r.probe_id, r.sample_index): (r, analysis, label) for r, analysis, label in rows}


def test_analyse_everything_once(database: Database, classifier: IdentityClassifier, embedder: Embedder) -> None:
    run_id = store_run(database)
    counting = CountingEmbedder(embedder)
    progress: list[tuple[int, int]] = []
    summary = analyse_pending(
        database, classifier=classifier, embedder=counting, progress=lambda *a: progress.append(a), batch_size=4
    )
    assert (summary.pending, summary.analysed, summary.labelled) == (len(RESPONSES), len(RESPONSES), len(RESPONSES))
    assert progress[0] == (0, len(RESPONSES)) and progress[-1] == (len(RESPONSES), len(RESPONSES))
    assert summary.batches == 3
    # Identical answers are embedded once: 10 responses, 8 distinct answers.
    distinct = len({analysis.answer_text for _, analysis, _ in _rows(database).values()})
    assert distinct == 8 and summary.embedded == distinct and len(counting.encoded) == distinct

    rows = _rows(database)
    assert Counter(label.label for _, _, label in rows.values()) == {"deepseek": 4, "openai": 1, "qwen": 1, "none": 4}
    _, analysis, label = rows[("who-en", 2)]
    assert (label.label, label.reasoning_label, label.classifier_version) == ("openai", "openai", classifier.version)
    assert "ChatGPT" in (label.evidence or "")
    _, analysis, label = rows[("who-en", 3)]  # a server split the reasoning out
    assert (analysis.reasoning_text, analysis.answer_text, analysis.think_state) == (
        "The user asks who I am.", "I am Qwen, created by Alibaba Cloud.", "present")
    _, analysis, _ = rows[("who-zh", 0)]
    assert (analysis.language, analysis.prompt_language) == ("zh", "zh")
    _, analysis, _ = rows[("who-en", 0)]
    assert (analysis.think_state, analysis.language, analysis.prompt_language) == ("present", "en", "en")
    assert analysis.extracted_answer is None and analysis.correct is None  # identity probes are not scored
    scored = {key: (a.extracted_answer, a.extraction_method, a.correct) for key, (_, a, _) in rows.items()
              if key[0] in ("eggs", "half")}
    assert scored == {
        ("eggs", 0): ("18", "boxed", True),
        ("eggs", 1): ("19", "final_answer", False),
        ("eggs", 2): (None, "none", False),
        ("half", 0): ("\\dfrac{1}{2}", "boxed", True),
    }
    _, analysis, _ = rows[("eggs", 2)]
    assert (analysis.think_state, analysis.truncated, analysis.answer_text) == ("unterminated", True, "")
    _, analysis, _ = rows[("half", 0)]
    assert analysis.prompt_language == "en"  # the probe has no language: detected from the prompt

    with database.session() as session:
        version = session.get(ClassifierVersion, classifier.version)
        assert version is not None and version.metrics["source"] == "bundled"
        stored = session.scalars(sa.select(Embedding)).all()
        assert {row.dim for row in stored} == {384} and {row.model_name for row in stored} == {embedder.model_name}
        vector = np.frombuffer(stored[0].vector, dtype=np.float32)
        assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5

    # Idempotent: nothing left to do, nothing encoded.
    again = analyse_pending(database, run_id=run_id, classifier=classifier, embedder=counting)
    assert (again.pending, again.analysed, again.labelled, again.embedded) == (0, 0, 0, 0)
    assert len(counting.encoded) == distinct


def test_cached_embeddings_are_reused_across_runs(database: Database, classifier: IdentityClassifier,
                                                  embedder: Embedder) -> None:
    first = store_run(database)
    analyse_pending(database, run_id=first, classifier=classifier, embedder=embedder)
    claude = ("who-en", 1, "I'm Claude, made by Anthropic.", "stop", None)
    second = store_run(database, sha="b" * 40, responses=[("who-en", 0, RESPONSES[0][2], "stop", None), claude])
    counting = CountingEmbedder(embedder)
    summary = analyse_pending(database, run_id=second, classifier=classifier, embedder=counting)
    assert (summary.analysed, summary.embedded, summary.embeddings_reused) == (2, 1, 1)
    assert counting.encoded == ["I'm Claude, made by Anthropic."]


def test_interrupted_analysis_resumes_without_duplicates(database: Database, classifier: IdentityClassifier,
                                                        embedder: Embedder) -> None:
    store_run(database)

    class Crash(Exception):
        pass

    def crash_after_first_batch(done: int, total: int) -> None:
        if done == 3:
            raise Crash

    with pytest.raises(Crash):
        analyse_pending(database, classifier=classifier, embedder=embedder, progress=crash_after_first_batch,
                        batch_size=3)
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ResponseAnalysis)) == 3
    summary = analyse_pending(database, classifier=classifier, embedder=embedder, batch_size=3)
    assert summary.analysed == len(RESPONSES) - 3
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ResponseAnalysis)) == len(RESPONSES)
        assert session.scalar(sa.select(sa.func.count()).select_from(Label)) == len(RESPONSES)


def test_new_classifier_version_relabels_and_keeps_old_labels(
    database: Database, classifier: IdentityClassifier, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from monitor.analysis import bundled_examples, train_classifier

    run_id = store_run(database)
    analyse_pending(database, classifier=classifier, embedder=embedder)
    with database.session() as session:
        first_id = session.scalar(sa.select(Response.id).where(Response.run_id == run_id).order_by(Response.id))
    assert first_id is not None
    add_reviewer_label(database, first_id, "deepseek")
    corrections = reviewer_examples(database)
    assert corrections == [(RESPONSES[0][2], "deepseek")]
    examples = [(row["text"], row["label"]) for row in bundled_examples()[:300]] + corrections
    newer, _ = train_classifier(examples, out_dir=tmp_path_factory.mktemp("newer"), cross_validate=False)
    summary = analyse_pending(database, classifier=newer, embedder=embedder)
    assert (summary.analysed, summary.labelled, summary.embedded) == (0, len(RESPONSES), 0)
    with database.session() as session:
        versions = Counter(session.scalars(sa.select(Label.classifier_version)))
    assert versions == {classifier.version: len(RESPONSES), newer.version: len(RESPONSES)}
