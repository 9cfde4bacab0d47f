"""Database mode: response sets from stored runs, comparisons stored and found again, baseline choice."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import sqlalchemy as sa

from monitor.config import MonitorConfig
from monitor.db import (
    ClassifierVersion,
    Comparison,
    Database,
    Embedding,
    Label,
    ProbeSuite,
    Response,
    ResponseAnalysis,
    Revision,
    Run,
    WatchedModel,
    open_database,
    utcnow,
)
from monitor.drift import DriftReport
from monitor.errors import ComparisonError, ModelNotFoundError
from monitor.pipeline import compare_new_revisions, compare_revisions, compare_with_baseline

REPO = "org/model"
SHA = {name: hashlib.sha1(name.encode()).hexdigest() for name in ("one", "two", "three")}
CENTRES = np.random.default_rng(99).normal(size=(4, 8))
LABEL_INDEX = {"deepseek": 0, "openai": 1, "none": 2}


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    db = open_database(sqlite_url)
    yield db
    db.dispose()


def _setup(db: Database, shas: Sequence[str] = ("one", "two")) -> None:
    with db.session() as session:
        model = WatchedModel(repo_id=REPO, expected_identity="deepseek")
        session.add(model)
        session.flush()
        for seq, name in enumerate(shas):
            session.add(Revision(model_id=model.id, sha=SHA[name], seq=seq))
        session.add(ProbeSuite(name="identity", content_hash="a" * 64, content={}))
        session.add(ProbeSuite(name="identity", content_hash="b" * 64, content={}))
        session.add(ProbeSuite(name="reasoning", content_hash="c" * 64, content={}))
        session.add(ClassifierVersion(version="v1", path="builtin"))


def _store_run(
    db: Database,
    sha: str,
    mix: Sequence[float],
    *,
    seed: int = 0,
    rng_seed: int = 0,
    suite_hash: str = "a" * 64,
    sampling_hash: str = "s" * 64,
    analysed: bool = True,
    engine_version: str = "transformers 4.46",
    versions: Sequence[str] = ("v1",),
    probes: int = 12,
    samples: int = 8,
) -> int:
    rng = np.random.default_rng(rng_seed)
    with db.session() as session:
        model = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == REPO))
        suite = session.scalar(sa.select(ProbeSuite).where(ProbeSuite.content_hash == suite_hash))
        assert model is not None and suite is not None
        run = Run(
            model_id=model.id,
            revision_sha=SHA[sha],
            suite_id=suite.id,
            engine="transformers",
            engine_version=engine_version,
            sampling={"temperature": 0.6},
            sampling_hash=sampling_hash,
            seed=seed,
            samples=samples,
            status="completed",
        )
        session.add(run)
        session.flush()
        for probe in range(probes):
            for sample in range(samples):
                if suite.name == "reasoning":
                    correct = bool(rng.random() < mix[probe % len(mix)])
                    label, answer = "none", "\\boxed{7}" if correct else "\\boxed{3}"
                else:
                    correct = None
                    label = ("deepseek", "openai", "none")[int(rng.choice(3, p=mix))]
                    answer = f"I am {label}, variant {int(rng.integers(3))}."
                response = Response(
                    run_id=run.id,
                    probe_id=f"p{probe:02d}",
                    sample_index=sample,
                    category=suite.name,
                    prompt=[{"role": "user", "content": "who are you?"}],
                    raw_text=f"<think>hmm</think>{answer}",
                    completion_tokens=int(rng.integers(50, 500)),
                    finish_reason="stop",
                )
                session.add(response)
                session.flush()
                if not analysed:
                    continue
                answer_hash = hashlib.sha256(answer.encode()).hexdigest()
                session.add(
                    ResponseAnalysis(
                        response_id=response.id,
                        analyzer_version="1",
                        reasoning_text="hmm",
                        answer_text=answer,
                        think_state="present",
                        answer_chars=len(answer),
                        language="en",
                        prompt_language="en",
                        answer_hash=answer_hash,
                        extracted_answer="7" if correct else ("3" if correct is False else None),
                        correct=correct,
                    )
                )
                for version in versions:
                    session.add(
                        Label(
                            response_id=response.id,
                            classifier_version=version,
                            label=label,
                            confidence=0.9,
                            created_at=utcnow(),
                        )
                    )
                if session.scalar(sa.select(Embedding.id).where(Embedding.text_hash == answer_hash)) is None:
                    vector = CENTRES[LABEL_INDEX.get(label, 3)] + 0.1 * rng.normal(size=8)
                    session.add(
                        Embedding(
                            text_hash=answer_hash,
                            model_name="all-MiniLM-L6-v2",
                            dim=8,
                            vector=vector.astype(np.float32).tobytes(),
                        )
                    )
                    session.flush()
        return run.id


def test_compare_revisions_stores_the_report_once(database: Database) -> None:
    _setup(database)
    _store_run(database, "one", (0.85, 0.05, 0.10), rng_seed=1)
    _store_run(database, "two", (0.45, 0.45, 0.10), rng_seed=2)
    report, comparison_id = compare_revisions(database, REPO, SHA["one"][:10], SHA["two"])
    assert report.drift and report.severity == "major"
    assert report.metric("claim_rate:openai").flagged
    assert report.metric("embedding_shift").n_baseline == 96
    with database.session() as session:
        row = session.get(Comparison, comparison_id)
        assert row is not None
        assert (row.baseline_sha, row.candidate_sha, row.drift, row.severity) == (SHA["one"], SHA["two"], True, "major")
        assert row.suite_hash == "a" * 64 and len(row.baseline_run_ids) == 1
        assert row.report == report.to_json()
    again, same_id = compare_revisions(database, REPO, SHA["one"], SHA["two"])
    assert same_id == comparison_id and again.to_json() == report.to_json()
    _, forced_id = compare_revisions(database, REPO, SHA["one"], SHA["two"], force=True)
    assert forced_id != comparison_id


def test_reruns_of_a_revision_give_the_noise_floor(sqlite_db: Database) -> None:
    _setup(sqlite_db)
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=1, rng_seed=1)
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=2, rng_seed=3)
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=2, rng_seed=4)  # same seed: replaces the previous
    _store_run(sqlite_db, "two", (0.85, 0.05, 0.10), rng_seed=2, engine_version="transformers 4.50")
    report, _ = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"], store=False)
    assert report.noise_floor is not None and report.noise_floor.runs == 2
    assert "claim_rate:openai" in report.noise_floor.effects
    assert report.metric("answer_mismatch_rate").in_family  # the reruns gave it a null
    assert any("different engine versions" in note for note in report.notes)
    assert len(report.baseline["run_ids"]) == 2 and not report.drift


def test_suite_or_sampling_changes_refuse_the_comparison(sqlite_db: Database) -> None:
    _setup(sqlite_db, ("one", "two", "three"))
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    _store_run(sqlite_db, "two", (0.85, 0.05, 0.10), suite_hash="b" * 64)
    _store_run(sqlite_db, "three", (0.85, 0.05, 0.10), sampling_hash="t" * 64)
    with pytest.raises(ComparisonError, match="identity suite changed between the runs"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    with pytest.raises(ComparisonError, match="different sampling"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["three"])


def test_unanalysed_runs_and_unknown_names_are_clear_errors(sqlite_db: Database) -> None:
    _setup(sqlite_db)
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    run_id = _store_run(sqlite_db, "two", (0.85, 0.05, 0.10), analysed=False)
    with pytest.raises(ComparisonError, match=f"not analysed yet; run: drift-monitor analyze --run {run_id}"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    with pytest.raises(ModelNotFoundError, match="'org/other' is not in the database"):
        compare_revisions(sqlite_db, "org/other", SHA["one"], SHA["two"])
    with pytest.raises(ComparisonError, match="no run of org/model at revision 'ffff'"):
        compare_revisions(sqlite_db, REPO, "ffff", SHA["two"])
    with pytest.raises(ComparisonError, match="same revision"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["one"])


def test_labels_come_from_one_classifier_version(sqlite_db: Database) -> None:
    _setup(sqlite_db)
    with sqlite_db.session() as session:
        session.add(ClassifierVersion(version="v2", path="trained"))
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10), versions=("v1", "v2"))
    _store_run(sqlite_db, "two", (0.85, 0.05, 0.10), versions=("v1",))
    # v2 labelled only the baseline: both sides are read with v1, which labelled everything.
    report, _ = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"], store=False)
    assert not report.drift


def test_suites_are_paired_and_reported_together(sqlite_db: Database) -> None:
    _setup(sqlite_db)
    accuracy = np.random.default_rng(5).beta(0.7, 0.3, size=12)
    _store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    _store_run(sqlite_db, "one", tuple(accuracy), suite_hash="c" * 64, samples=4)
    _store_run(sqlite_db, "two", (0.85, 0.05, 0.10), rng_seed=7)
    _store_run(sqlite_db, "two", tuple(accuracy * 0.2), suite_hash="c" * 64, samples=4, rng_seed=8)
    report, comparison_id = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    assert report.metric("accuracy").flagged and report.severity == "major"
    assert report.metric("claim_rate:openai").n_baseline == 96
    with sqlite_db.session() as session:
        row = session.get(Comparison, comparison_id)
        assert row is not None and len(row.baseline_run_ids) == 2 and len(row.suite_hash) == 64


def test_each_new_revision_is_compared_with_its_baseline(database: Database) -> None:
    _setup(database, ("one", "two", "three"))
    _store_run(database, "one", (0.85, 0.05, 0.10), rng_seed=1)
    _store_run(database, "two", (0.85, 0.05, 0.10), rng_seed=2)
    _store_run(database, "three", (0.40, 0.50, 0.10), rng_seed=3)
    assert compare_with_baseline(database, REPO, SHA["one"]) is None
    outcomes, errors = compare_new_revisions(database)
    assert errors == []
    pairs = [(o.baseline_sha, o.candidate_sha, o.created) for o in outcomes]
    assert pairs == [(SHA["one"], SHA["two"], True), (SHA["two"], SHA["three"], True)]
    assert [o.report.drift for o in outcomes] == [False, True]
    again, _ = compare_new_revisions(database)
    assert [o.created for o in again] == [False, False]
    assert [o.comparison_id for o in again] == [o.comparison_id for o in outcomes]
    config = MonitorConfig.model_validate(
        {"models": [{"repo": REPO, "baseline": {"policy": "pinned", "ref": SHA["one"][:8]}}]}
    )
    pinned, _ = compare_new_revisions(database, config=config)
    assert [(o.baseline_sha, o.candidate_sha) for o in pinned] == [(SHA["one"], SHA["two"]), (SHA["one"], SHA["three"])]
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Comparison)) == 3
        stored = session.scalars(sa.select(Comparison).order_by(Comparison.id)).all()
        assert DriftReport.from_json(stored[-1].report).drift
