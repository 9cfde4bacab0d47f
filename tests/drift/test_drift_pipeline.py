"""Database mode: response sets from stored runs, comparisons stored and found again, baseline choice."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

from monitor.config import MonitorConfig
from monitor.db import (
    ClassifierVersion,
    Comparison,
    Database,
    open_database,
)
from monitor.drift import DriftReport
from monitor.errors import ComparisonError, ModelNotFoundError
from monitor.pipeline import compare_new_revisions, compare_revisions, compare_with_baseline
from tests.drift._db import REPO, SHA, setup_model, store_run


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    db = open_database(sqlite_url)
    yield db
    db.dispose()


def test_compare_revisions_stores_the_report_once(database: Database) -> None:
    setup_model(database)
    store_run(database, "one", (0.85, 0.05, 0.10), rng_seed=1)
    store_run(database, "two", (0.45, 0.45, 0.10), rng_seed=2)
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
    setup_model(sqlite_db)
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=1, rng_seed=1)
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=2, rng_seed=3)
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10), seed=2, rng_seed=4)  # same seed: replaces the previous
    store_run(sqlite_db, "two", (0.85, 0.05, 0.10), rng_seed=2, engine_version="transformers 4.50")
    report, _ = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"], store=False)
    assert report.noise_floor is not None and report.noise_floor.runs == 2
    assert "claim_rate:openai" in report.noise_floor.effects
    assert report.metric("answer_mismatch_rate").in_family  # the reruns gave it a null
    assert any("different engine versions" in note for note in report.notes)
    assert len(report.baseline["run_ids"]) == 2 and not report.drift


def test_suite_or_sampling_changes_refuse_the_comparison(sqlite_db: Database) -> None:
    setup_model(sqlite_db, ("one", "two", "three"))
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    store_run(sqlite_db, "two", (0.85, 0.05, 0.10), suite_hash="b" * 64)
    store_run(sqlite_db, "three", (0.85, 0.05, 0.10), sampling_hash="t" * 64)
    with pytest.raises(ComparisonError, match="identity suite changed between the runs"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    with pytest.raises(ComparisonError, match="different sampling"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["three"])


def test_unanalysed_runs_and_unknown_names_are_clear_errors(sqlite_db: Database) -> None:
    setup_model(sqlite_db)
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    run_id = store_run(sqlite_db, "two", (0.85, 0.05, 0.10), analysed=False)
    with pytest.raises(ComparisonError, match=f"not analysed yet; run: drift-monitor analyse --run {run_id}"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    with pytest.raises(ModelNotFoundError, match="'org/other' is not in the database"):
        compare_revisions(sqlite_db, "org/other", SHA["one"], SHA["two"])
    with pytest.raises(ComparisonError, match="no run of org/model at revision 'ffff'"):
        compare_revisions(sqlite_db, REPO, "ffff", SHA["two"])
    with pytest.raises(ComparisonError, match="same revision"):
        compare_revisions(sqlite_db, REPO, SHA["one"], SHA["one"])


def test_labels_come_from_one_classifier_version(sqlite_db: Database) -> None:
    setup_model(sqlite_db)
    with sqlite_db.session() as session:
        session.add(ClassifierVersion(version="v2", path="trained"))
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10), versions=("v1", "v2"))
    store_run(sqlite_db, "two", (0.85, 0.05, 0.10), versions=("v1",))
    # v2 labelled only the baseline: both sides are read with v1, which labelled everything.
    report, _ = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"], store=False)
    assert not report.drift


def test_suites_are_paired_and_reported_together(sqlite_db: Database) -> None:
    setup_model(sqlite_db)
    accuracy = np.random.default_rng(5).beta(0.7, 0.3, size=12)
    store_run(sqlite_db, "one", (0.85, 0.05, 0.10))
    store_run(sqlite_db, "one", tuple(accuracy), suite_hash="c" * 64, samples=4)
    store_run(sqlite_db, "two", (0.85, 0.05, 0.10), rng_seed=7)
    store_run(sqlite_db, "two", tuple(accuracy * 0.2), suite_hash="c" * 64, samples=4, rng_seed=8)
    report, comparison_id = compare_revisions(sqlite_db, REPO, SHA["one"], SHA["two"])
    assert report.metric("accuracy").flagged and report.severity == "major"
    assert report.metric("claim_rate:openai").n_baseline == 96
    with sqlite_db.session() as session:
        row = session.get(Comparison, comparison_id)
        assert row is not None and len(row.baseline_run_ids) == 2 and len(row.suite_hash) == 64


def test_each_new_revision_is_compared_with_its_baseline(database: Database) -> None:
    setup_model(database, ("one", "two", "three"))
    store_run(database, "one", (0.85, 0.05, 0.10), rng_seed=1)
    store_run(database, "two", (0.85, 0.05, 0.10), rng_seed=2)
    store_run(database, "three", (0.40, 0.50, 0.10), rng_seed=3)
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
