"""compare(): verdict, severity, minimum effects, noise floor, confounders, the JSON contract, Markdown."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from monitor.drift import DriftPolicy, DriftReport, NoiseFloor, ResponseRecord, ResponseSet, compare, noise_floor
from monitor.errors import ComparisonError
from tests.drift._sets import identity_set, reasoning_set

MIX = (0.80, 0.05, 0.15)
ACCURACY = np.random.default_rng(7).beta(0.7, 0.3, size=50)


def test_same_distribution_is_not_drift_and_reports_every_metric() -> None:
    report = compare(identity_set(MIX, seed=1, name="a"), identity_set(MIX, seed=2, name="b"))
    assert not report.drift and report.severity == "none"
    names = {metric.name for metric in report.metrics}
    assert {
        "expected_identity_rate",
        "claim_rate:openai",
        "claim_rate:none",
        "identity_consistency",
        "embedding_shift",
        "answer_mismatch_rate",
        "greedy_exact_match_rate",
        "think_present_rate",
        "truncation_rate",
        "language_mismatch_rate",
        "answer_chars",
        "completion_tokens",
    } <= names
    assert "claim_rate:deepseek" not in names  # the expected identity has its own metric
    assert report.baseline["name"] == "a" and report.candidate["responses"] == 160


def test_an_openai_identity_shift_is_major_drift_with_its_evidence() -> None:
    report = compare(identity_set(MIX, seed=1), identity_set((0.55, 0.30, 0.15), seed=2))
    assert report.drift and report.severity == "major"
    openai = report.metric("claim_rate:openai")
    assert openai.flagged and openai.significant and openai.in_family
    assert openai.difference == pytest.approx(openai.candidate - openai.baseline)
    assert openai.ci[0] < openai.difference < openai.ci[1] and openai.ci[0] > 0
    assert openai.test.startswith("Fisher exact")
    assert openai.p_adjusted >= openai.p_value
    assert "claim_rate:openai" in report.summary()


def test_answers_that_moved_on_many_probes_flag_the_embedding_metric() -> None:
    report = compare(identity_set(MIX, seed=1), identity_set((0.1, 0.8, 0.1), seed=2))
    shift = report.metric("embedding_shift")
    assert shift.flagged and shift.candidate > 0.5
    assert "Benjamini–Hochberg across 20 probes" in shift.test and "who-" in shift.detail


def test_an_accuracy_drop_is_flagged_by_the_paired_test() -> None:
    baseline = reasoning_set(ACCURACY, seed=1)
    candidate = reasoning_set(np.clip(ACCURACY - 0.4, 0, 1), seed=2)
    report = compare(baseline, candidate)
    accuracy = report.metric("accuracy")
    assert accuracy.flagged and accuracy.difference < -0.2
    assert "stratified" in accuracy.test and accuracy.ci[1] < 0
    assert report.severity == "major"
    assert report.metric("answer_mismatch_rate").in_family is False  # no rerun, no null: descriptive


def test_a_small_format_change_is_minor() -> None:
    baseline = identity_set(MIX, seed=1, probes=40, think_absent=0.0)
    candidate = identity_set(MIX, seed=1, probes=40, think_absent=0.15)
    report = compare(baseline, candidate)
    think = report.metric("think_present_rate")
    assert think.flagged and -0.25 < think.difference < -0.05
    assert report.severity == "minor"


def test_significant_but_below_the_minimum_effect_is_not_drift() -> None:
    baseline = identity_set((0.90, 0.10, 0.0), seed=1, probes=500, embed=False)
    candidate = identity_set((0.87, 0.13, 0.0), seed=2, probes=500, embed=False)
    openai = compare(baseline, candidate).metric("claim_rate:openai")
    assert openai.significant and openai.effect < 0.05
    assert not openai.flagged
    looser = compare(baseline, candidate, policy=DriftPolicy(min_effects={"claim_rate": 0.02}))
    assert looser.metric("claim_rate:openai").flagged


def test_noise_floor_widens_minimum_effects_and_gives_mismatch_a_null() -> None:
    baseline = identity_set((0.90, 0.10, 0.0), seed=1, probes=500, embed=False)
    candidate = identity_set((0.80, 0.20, 0.0), seed=2, probes=500, embed=False)
    assert compare(baseline, candidate).metric("claim_rate:openai").flagged
    floor = NoiseFloor(
        runs=2, pairs=1, effects={"claim_rate:openai": 0.12}, mismatches={"answer_mismatch_rate": (5, 500)}
    )
    report = compare(baseline, candidate, noise_floor=floor)
    openai = report.metric("claim_rate:openai")
    assert openai.min_effect == pytest.approx(0.12) and openai.noise == pytest.approx(0.12)
    assert openai.significant and not openai.flagged
    mismatch = report.metric("answer_mismatch_rate")
    assert mismatch.in_family and mismatch.baseline == pytest.approx(0.01) and mismatch.p_value < 1e-6
    assert report.to_json()["noise_floor"]["effects"]["claim_rate:openai"] == 0.12
    assert any("noise floor" in note for note in report.notes)


def test_noise_floor_from_reruns_of_one_revision() -> None:
    runs = [identity_set(MIX, seed=seed, embed=False) for seed in (1, 2, 3)]
    floor = noise_floor(runs)
    assert floor.runs == 3 and floor.pairs == 3
    assert 0 < floor.effects["claim_rate:openai"] < 0.1
    differ, n = floor.mismatches["answer_mismatch_rate"]
    assert n == 3 * 20 and 0 <= differ <= n
    with pytest.raises(ComparisonError, match="at least two runs"):
        noise_floor(runs[:1])


def test_suite_or_sampling_mismatch_refuses_the_comparison() -> None:
    baseline = identity_set(MIX, seed=1)
    with pytest.raises(ComparisonError, match=r"different probe suite content \(hash identity-has vs other"):
        compare(baseline, identity_set(MIX, seed=2, suite_hash="other-hash"))
    with pytest.raises(ComparisonError, match=r"different sampling \(temperature 0.6 vs 1.0\)"):
        compare(baseline, identity_set(MIX, seed=2, sampling={"temperature": 1.0, "top_p": 0.95}))
    with pytest.raises(ComparisonError, match="share no probe ids"):
        compare(baseline, reasoning_set(ACCURACY, seed=1, suite_hash="identity-hash"))
    with pytest.raises(ComparisonError, match="candidate has no responses"):
        compare(baseline, replace(baseline, records=()))


def test_engine_differences_are_reported_as_confounders() -> None:
    baseline = identity_set(MIX, seed=1, engine="transformers", engine_version="transformers 4.46")
    other_version = identity_set(MIX, seed=2, engine="transformers", engine_version="transformers 4.50")
    other_kind = identity_set(MIX, seed=2, engine="vllm", engine_version="vllm 0.8")
    assert any("different engine versions" in note for note in compare(baseline, other_version).notes)
    assert any("different engine kinds (transformers vs vllm)" in note for note in compare(baseline, other_kind).notes)
    file_mode = compare(replace(baseline, suite_hash=None, sampling=None), replace(other_version, suite_hash=None))
    assert any("suite content hash unknown" in note for note in file_mode.notes)


def test_partial_overlap_compares_shared_probes_and_says_so() -> None:
    baseline = identity_set(MIX, seed=1, probes=20)
    candidate = identity_set(MIX, seed=2, probes=15)
    report = compare(baseline, candidate)
    assert any("compared on the 15 probes" in note for note in report.notes)
    assert report.baseline["probes"] == 15


def test_metrics_that_cannot_reach_significance_stay_out_of_the_family() -> None:
    baseline = identity_set(MIX, seed=1, embed=False)
    records = list(baseline.records)
    records[0] = replace(records[0], label="meta")
    report = compare(baseline, identity_set(MIX, seed=2, embed=False))
    assert "claim_rate:meta" not in {m.name for m in report.metrics}
    report = compare(replace(baseline, records=tuple(records)), identity_set(MIX, seed=2, embed=False))
    meta = report.metric("claim_rate:meta")
    assert not meta.in_family and meta.p_adjusted == 1.0
    assert any("left out of the family" in note and "claim_rate:meta" in note for note in report.notes)


def test_json_contract_round_trips_and_is_strict_json() -> None:
    report = compare(identity_set(MIX, seed=1), identity_set((0.55, 0.30, 0.15), seed=2))
    document = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert set(document) >= {"drift", "severity", "metrics", "notes"}
    assert isinstance(document["drift"], bool) and document["severity"] in ("none", "minor", "major")
    for metric in document["metrics"]:
        assert isinstance(metric["name"], str) and isinstance(metric["test"], str)
        for key in ("baseline", "candidate", "difference", "p_value", "p_adjusted"):
            assert isinstance(metric[key], int | float), (metric["name"], key)
        assert len(metric["ci"]) == 2 and all(isinstance(v, int | float) for v in metric["ci"])
        assert isinstance(metric["significant"], bool)
    assert all(isinstance(note, str) for note in document["notes"])
    again = DriftReport.from_json(document)
    assert again.to_json() == document


def test_compare_is_deterministic_for_a_seed() -> None:
    a, b = identity_set(MIX, seed=1), identity_set(MIX, seed=2)
    assert compare(a, b, rng_seed=5).to_json() == compare(a, b, rng_seed=5).to_json()


def test_markdown_report_has_the_table_and_escapes_ids() -> None:
    baseline = identity_set(MIX, seed=1, name="rev|<b>a</b>")
    report = compare(baseline, identity_set((0.55, 0.30, 0.15), seed=2, name="cand"))
    markdown = report.to_markdown()
    assert markdown.startswith("# Drift report: rev\\|\\<b\\>a\\</b\\> → cand")
    assert "**major drift**" in markdown
    assert "| claim\\_rate:openai |" in markdown
    flagged_row = next(line for line in markdown.splitlines() if line.startswith("| claim\\_rate:openai"))
    assert flagged_row.endswith("| **yes** |") and "pts" in flagged_row
    # Notes get a section exactly when there are some, one bullet each, after the table.
    assert ("## Notes" in markdown) == bool(report.notes)
    if report.notes:
        section = markdown.split("## Notes", 1)[1].strip().splitlines()
        assert len(section) == len(report.notes) and all(line.startswith("- ") for line in section)


def test_policy_validates_its_settings() -> None:
    with pytest.raises(ValueError, match="unknown metric kinds"):
        DriftPolicy(min_effects={"claims": 0.1})
    with pytest.raises(ValueError, match="1000 permutations"):
        DriftPolicy(permutations=100)
    assert DriftPolicy(min_effects={"accuracy": 0.1}).min_effect("accuracy") == 0.1
    assert DriftPolicy().min_effect("claim_rate:openai") == 0.05


def test_records_without_labels_or_scores_are_skipped_not_counted() -> None:
    records = (
        ResponseRecord("p1", 0, "identity", label=None, answer_text="x", answer_chars=1),
        ResponseRecord("p1", 1, "identity", label=None, answer_text="x", answer_chars=1),
    )
    report = compare(ResponseSet(records), ResponseSet(records))
    names = {m.name for m in report.metrics}
    assert "expected_identity_rate" not in names and "accuracy" not in names
    assert "think_present_rate" in names and not report.drift
