"""Drift comparisons over the database: response sets for runs, a revision against its baseline, stored.

``compare_revisions`` reads the completed runs of two revisions, pairs them by suite content and
sampling (anything else is refused or noted, never silently mixed), measures the noise floor where a
revision was run more than once, calls the pure ``monitor.drift.compare`` and stores a ``Comparison``
row whose ``report`` is the report JSON. ``compare_with_baseline`` picks the baseline by the model's
policy (previous revision or a pinned one) and ``compare_new_revisions`` fills in every missing
comparison: each step is idempotent, so the service can call it every cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.config import MonitorConfig
from monitor.db import (
    Comparison,
    Database,
    ProbeSuite,
    Revision,
    Run,
    WatchedModel,
)
from monitor.drift import (
    DriftPolicy,
    DriftReport,
    NoiseFloor,
    ResponseSet,
    compare,
    noise_floor,
)
from monitor.errors import ComparisonError, ModelNotFoundError
from monitor.hub import public_location
from monitor.pipeline._response_sets import response_set_for_runs

__all__ = [
    "ComparisonOutcome",
    "compare_new_revisions",
    "compare_revisions",
    "compare_with_baseline",
    "find_baseline_sha",
    "pinned_revision",
]

BaselinePolicy = Literal["previous", "pinned"]
_COMPLETED = "completed"
_MIN_PREFIX = 7  # shortest sha prefix a pinned baseline may use (git's default abbreviation)


@dataclass(frozen=True)
class ComparisonOutcome:
    """One stored comparison: which revisions, its row id, the report, and whether it was new."""

    repo_id: str
    baseline_sha: str
    candidate_sha: str
    comparison_id: int
    report: DriftReport
    created: bool


@dataclass(frozen=True)
class _Group:
    """The completed runs of one revision with one suite content and one sampling."""

    suite_name: str
    suite_hash: str
    sampling_hash: str
    runs: tuple[Run, ...]


def compare_revisions(
    db: Database,
    repo_id: str,
    baseline_sha: str,
    candidate_sha: str,
    *,
    policy: DriftPolicy | None = None,
    store: bool = True,
    force: bool = False,
) -> tuple[DriftReport, int | None]:
    """Compare the completed runs of two revisions of a watched model; store the report as a Comparison.

    Shas may be unique prefixes. Runs are paired by suite content hash and sampling: suites run on only
    one side are left out (and named in the notes); if no suite was run alike on both sides the
    comparison is refused. Two or more runs of one revision give the noise floor. An identical stored
    comparison (same run ids) is returned as is unless ``force``. Returns (report, comparison id or None
    when ``store`` is false).
    """
    with db.session() as session:
        model = _model(session, repo_id)
        baseline_sha = _resolve_sha(session, model, baseline_sha)
        candidate_sha = _resolve_sha(session, model, candidate_sha)
        if baseline_sha == candidate_sha:
            raise ComparisonError(f"baseline and candidate are the same revision {baseline_sha[:12]}")
        pairs, notes = _paired_groups(session, model, baseline_sha, candidate_sha)
        baseline_runs = [run for b, _ in pairs for run in b.runs]
        candidate_runs = [run for _, c in pairs for run in c.runs]
        suite_key = _suite_key(pairs)
        if store and not force:
            existing = _existing(session, model, baseline_sha, candidate_sha, baseline_runs, candidate_runs)
            if existing is not None:
                return DriftReport.from_json(existing.report), existing.id
        baseline_set, floor_b = _side(session, model, [b for b, _ in pairs], baseline_sha, suite_key, policy)
        candidate_set, floor_c = _side(session, model, [c for _, c in pairs], candidate_sha, suite_key, policy)
        floor = NoiseFloor.combine([f for f in (floor_b, floor_c) if f is not None])
        report = compare(baseline_set, candidate_set, policy=policy, noise_floor=floor)
        notes += _embedding_notes(baseline_set, candidate_set)
        report = replace(report, notes=(*report.notes, *notes))
        if not store:
            return report, None
        row = Comparison(
            model_id=model.id,
            suite_hash=hashlib.sha256(suite_key.encode()).hexdigest() if len(pairs) > 1 else pairs[0][0].suite_hash,
            baseline_sha=baseline_sha,
            candidate_sha=candidate_sha,
            baseline_run_ids=sorted(run.id for run in baseline_runs),
            candidate_run_ids=sorted(run.id for run in candidate_runs),
            kind="revision",
            drift=report.drift,
            severity=report.severity,
            report=report.to_json(),
        )
        session.add(row)
        session.flush()
        return report, row.id


def pinned_revision(revisions: Sequence[Revision], ref: str) -> Revision | None:
    """The revision a pinned baseline ``ref`` names: its full sha, a tag on it, or a sha prefix of >= 7 characters.

    The one rule for both the runs the cycle owes the pinned baseline and the comparison with it. A
    shorter prefix is refused: like git's abbreviations, it would name another commit as history grows.
    """
    for revision in revisions:
        if revision.sha == ref or ref in (revision.tags or []):
            return revision
    if len(ref) >= _MIN_PREFIX:
        matches = [revision for revision in revisions if revision.sha.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
    return None


def find_baseline_sha(
    session: Session,
    model: WatchedModel,
    candidate_sha: str,
    *,
    policy: BaselinePolicy = "previous",
    pinned_ref: str | None = None,
) -> str | None:
    """The revision a candidate is compared with, or None when there is none yet (the first revision).

    ``previous``: the newest earlier revision (by hub order, else by run time) with a completed run of a
    suite the candidate also ran alike. ``pinned``: ``pinned_ref`` as a sha prefix or a tag.
    """
    if policy == "pinned":
        if not pinned_ref:
            raise ComparisonError("baseline policy 'pinned' needs a ref (a commit sha or tag)")
        revisions = session.scalars(sa.select(Revision).where(Revision.model_id == model.id).order_by(Revision.seq))
        pinned = pinned_revision(list(revisions), pinned_ref)
        if pinned is not None:
            return pinned.sha if pinned.sha != candidate_sha else None
        if len(pinned_ref) < _MIN_PREFIX:
            raise ComparisonError(
                f"pinned baseline {pinned_ref!r} is neither a tag nor a sha of {model.repo_id}; "
                f"give the full sha or at least {_MIN_PREFIX} characters of it"
            )
        return _resolve_sha(session, model, pinned_ref)
    candidate_keys = {(g.suite_hash, g.sampling_hash) for g in _groups(session, model, candidate_sha)}
    if not candidate_keys:
        return None
    for sha in _earlier_shas(session, model, candidate_sha):
        if candidate_keys & {(g.suite_hash, g.sampling_hash) for g in _groups(session, model, sha)}:
            return sha
    return None


def compare_with_baseline(
    db: Database,
    repo_id: str,
    candidate_sha: str,
    *,
    baseline: BaselinePolicy = "previous",
    pinned_ref: str | None = None,
    policy: DriftPolicy | None = None,
) -> ComparisonOutcome | None:
    """Compare a newly run revision with its baseline and store it; None when it has no baseline yet.

    Idempotent: calling it again without new runs returns the stored comparison (``created`` false).
    """
    with db.session() as session:
        model = _model(session, repo_id)
        candidate_sha = _resolve_sha(session, model, candidate_sha)
        baseline_sha = find_baseline_sha(session, model, candidate_sha, policy=baseline, pinned_ref=pinned_ref)
        if baseline_sha is None:
            return None
        before = session.scalar(sa.select(sa.func.max(Comparison.id)))
    report, comparison_id = compare_revisions(db, repo_id, baseline_sha, candidate_sha, policy=policy)
    assert comparison_id is not None
    created = before is None or comparison_id > before
    return ComparisonOutcome(repo_id, baseline_sha, candidate_sha, comparison_id, report, created)


def compare_new_revisions(
    db: Database,
    *,
    config: MonitorConfig | None = None,
    repo_ids: Sequence[str] | None = None,
    policy: DriftPolicy | None = None,
) -> tuple[list[ComparisonOutcome], list[str]]:
    """Every revision with completed runs compared with its baseline (the missing comparisons only).

    The baseline policy of each model comes from ``config`` (``models[].baseline``; previous when the
    model is not configured). A comparison that cannot be made (say, runs not analysed yet) is reported
    as an error line and the others go on. Returns (outcomes, errors).
    """
    baselines = {public_location(m.repo): m.baseline for m in config.models} if config is not None else {}
    with db.session() as session:
        query = sa.select(WatchedModel.repo_id).order_by(WatchedModel.id)
        if repo_ids is not None:
            query = query.where(WatchedModel.repo_id.in_(list(repo_ids)))
        repos = list(session.scalars(query))
        work: list[tuple[str, str]] = []
        for repo in repos:
            model = _model(session, repo)
            work += [(repo, sha) for sha in _shas_with_runs(session, model)]
    outcomes: list[ComparisonOutcome] = []
    errors: list[str] = []
    for repo, sha in work:
        setting = baselines.get(repo)
        try:
            outcome = compare_with_baseline(
                db,
                repo,
                sha,
                baseline=setting.policy if setting else "previous",
                pinned_ref=setting.ref if setting else None,
                policy=policy,
            )
        except (ComparisonError, ModelNotFoundError) as exc:
            errors.append(f"{repo} {sha[:12]}: {exc}")
            continue
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes, errors


# -- selection of runs ---------------------------------------------------------------------------------


def _model(session: Session, repo_id: str) -> WatchedModel:
    model = session.scalar(sa.select(WatchedModel).where(WatchedModel.repo_id == repo_id))
    if model is None:
        known = ", ".join(session.scalars(sa.select(WatchedModel.repo_id).order_by(WatchedModel.repo_id))) or "none"
        raise ModelNotFoundError(f"model {repo_id!r} is not in the database (known: {known}); run it first")
    return model


def _resolve_sha(session: Session, model: WatchedModel, sha: str) -> str:
    """A full sha from a unique prefix, among the revisions that have runs or revision rows."""
    candidates = set(
        session.scalars(
            sa.select(Run.revision_sha).where(
                Run.model_id == model.id, Run.revision_sha.startswith(sha, autoescape=True)
            )
        )
    ) | set(
        session.scalars(
            sa.select(Revision.sha).where(Revision.model_id == model.id, Revision.sha.startswith(sha, autoescape=True))
        )
    )
    if not candidates:
        raise ComparisonError(f"no run of {model.repo_id} at revision {sha!r}; run: drift-monitor run ...")
    if len(candidates) > 1:
        listed = ", ".join(sorted(c[:12] for c in candidates))
        raise ComparisonError(f"revision {sha!r} is ambiguous for {model.repo_id} ({listed}); give more characters")
    return candidates.pop()


def _groups(session: Session, model: WatchedModel, sha: str) -> list[_Group]:
    """Completed runs of one revision grouped by (suite content, sampling); of same-seed reruns the newest."""
    runs = session.scalars(
        sa.select(Run)
        .join(ProbeSuite, ProbeSuite.id == Run.suite_id)
        .where(Run.model_id == model.id, Run.revision_sha == sha, Run.status == _COMPLETED)
        .order_by(Run.id)
    ).all()
    grouped: dict[tuple[str, str], dict[int, Run]] = {}
    names: dict[tuple[str, str], str] = {}
    for run in runs:
        key = (run.suite.content_hash, run.sampling_hash)
        names[key] = run.suite.name
        # Same seed means the same requests: a rerun with it repeats the samples (not new evidence).
        grouped.setdefault(key, {})[run.seed] = run
    return [
        _Group(names[key], key[0], key[1], tuple(sorted(by_seed.values(), key=lambda r: r.id)))
        for key, by_seed in sorted(grouped.items(), key=lambda item: names[item[0]])
    ]


def _paired_groups(
    session: Session, model: WatchedModel, baseline_sha: str, candidate_sha: str
) -> tuple[list[tuple[_Group, _Group]], list[str]]:
    """Pair both sides' groups by (suite content, sampling); refuse when nothing pairs."""
    groups_b = _groups(session, model, baseline_sha)
    groups_c = _groups(session, model, candidate_sha)
    for sha, groups in ((baseline_sha, groups_b), (candidate_sha, groups_c)):
        if not groups:
            raise ComparisonError(
                f"no completed run of {model.repo_id} at {sha[:12]}; run: drift-monitor run --model {model.repo_id} "
                f"--revision {sha}"
            )
    by_key_c = {(g.suite_hash, g.sampling_hash): g for g in groups_c}
    pairs = [
        (g, by_key_c[(g.suite_hash, g.sampling_hash)]) for g in groups_b if (g.suite_hash, g.sampling_hash) in by_key_c
    ]
    paired_b = {id(b) for b, _ in pairs}
    paired_c = {id(c) for _, c in pairs}
    unpaired_b = [g for g in groups_b if id(g) not in paired_b]
    unpaired_c = [g for g in groups_c if id(g) not in paired_c]
    if not pairs:
        raise ComparisonError(_mismatch_message(baseline_sha, candidate_sha, groups_b, groups_c))
    notes = []
    for side, groups in (("baseline", unpaired_b), ("candidate", unpaired_c)):
        for group in groups:
            notes.append(
                f"left out: the {side}'s {group.suite_name} run(s) (suite {group.suite_hash[:12]}, sampling "
                f"{group.sampling_hash[:12]}) have no counterpart with the same suite content and sampling"
            )
    return pairs, notes


def _mismatch_message(baseline_sha: str, candidate_sha: str, groups_b: list[_Group], groups_c: list[_Group]) -> str:
    """Explain why nothing can be compared: which suite content or sampling differs."""
    names_c = {g.suite_name: g for g in groups_c}
    for group in groups_b:
        other = names_c.get(group.suite_name)
        if other is None:
            continue
        if other.suite_hash != group.suite_hash:
            return (
                f"the {group.suite_name} suite changed between the runs (content {group.suite_hash[:12]} at "
                f"{baseline_sha[:12]} vs {other.suite_hash[:12]} at {candidate_sha[:12]}); "
                "rerun both revisions with the same suite version"
            )
        return (
            f"the {group.suite_name} runs used different sampling (sampling hash {group.sampling_hash[:12]} vs "
            f"{other.sampling_hash[:12]}); rerun both revisions with the same sampling"
        )
    suites_b = ", ".join(g.suite_name for g in groups_b)
    suites_c = ", ".join(g.suite_name for g in groups_c)
    return f"no suite was run on both revisions (baseline: {suites_b}; candidate: {suites_c})"


def _suite_key(pairs: Sequence[tuple[_Group, _Group]]) -> str:
    return "+".join(f"{b.suite_name}@{b.suite_hash}/{b.sampling_hash}" for b, _ in pairs)


def _side(
    session: Session,
    model: WatchedModel,
    groups: Sequence[_Group],
    sha: str,
    suite_key: str,
    policy: DriftPolicy | None,
) -> tuple[ResponseSet, NoiseFloor | None]:
    """One revision's response set over all paired suites, and its noise floor when it has reruns."""
    prefix_needed = len(groups) > 1
    sets: list[ResponseSet] = []
    floors: list[NoiseFloor] = []
    for group in groups:
        prefix = f"{group.suite_name}/" if prefix_needed else ""
        per_run = [
            response_set_for_runs(
                session, [run], name=sha, expected_identity=model.expected_identity, probe_prefix=prefix
            )
            for run in group.runs
        ]
        if len(per_run) >= 2:
            floors.append(noise_floor(per_run, policy=policy))
        sets.extend(per_run)
    records = tuple(record for response_set in sets for record in response_set.records)
    engines = sorted({s.engine for s in sets if s.engine})
    versions = sorted({v for s in sets if s.engine_version for v in s.engine_version.split(", ")})
    combined = ResponseSet(
        records,
        suite_hash=suite_key,
        sampling={"suites": suite_key},
        engine=", ".join(engines) or None,
        engine_version=", ".join(versions) or None,
        expected_identity=model.expected_identity,
        name=sha,
        run_ids=tuple(run_id for s in sets for run_id in s.run_ids),
    )
    return combined, NoiseFloor.combine(floors)


def _existing(
    session: Session,
    model: WatchedModel,
    baseline_sha: str,
    candidate_sha: str,
    baseline_runs: Iterable[Run],
    candidate_runs: Iterable[Run],
) -> Comparison | None:
    wanted_b = sorted(run.id for run in baseline_runs)
    wanted_c = sorted(run.id for run in candidate_runs)
    for row in session.scalars(
        sa.select(Comparison)
        .where(
            Comparison.model_id == model.id,
            Comparison.baseline_sha == baseline_sha,
            Comparison.candidate_sha == candidate_sha,
            Comparison.kind == "revision",
        )
        .order_by(Comparison.id.desc())
    ):
        if sorted(row.baseline_run_ids) == wanted_b and sorted(row.candidate_run_ids) == wanted_c:
            return row
    return None


def _earlier_shas(session: Session, model: WatchedModel, candidate_sha: str) -> list[str]:
    """Revisions before the candidate, newest first: hub order when known, else order of first run."""
    revisions = {r.sha: r for r in session.scalars(sa.select(Revision).where(Revision.model_id == model.id))}
    first_run = dict(
        session.execute(
            sa.select(Run.revision_sha, sa.func.min(Run.id))
            .where(Run.model_id == model.id, Run.status == _COMPLETED)
            .group_by(Run.revision_sha)
        ).all()
    )
    shas = set(first_run) | set(revisions)
    candidate = revisions.get(candidate_sha)
    if candidate is not None and all(sha in revisions for sha in first_run):
        ordered = sorted((r for r in revisions.values() if r.seq < candidate.seq), key=lambda r: (r.seq, r.id))
        return [r.sha for r in reversed(ordered) if r.sha in first_run]
    if candidate_sha not in first_run:
        return []
    before = [sha for sha in shas if sha in first_run and first_run[sha] < first_run[candidate_sha]]
    return sorted(before, key=lambda sha: first_run[sha], reverse=True)


def _shas_with_runs(session: Session, model: WatchedModel) -> list[str]:
    """Revisions with a completed run, oldest first (hub order when known, else run order)."""
    revisions = {r.sha: r for r in session.scalars(sa.select(Revision).where(Revision.model_id == model.id))}
    first_run = dict(
        session.execute(
            sa.select(Run.revision_sha, sa.func.min(Run.id))
            .where(Run.model_id == model.id, Run.status == _COMPLETED)
            .group_by(Run.revision_sha)
        ).all()
    )

    def order(sha: str) -> tuple[int, int]:
        revision = revisions.get(sha)
        return (revision.seq if revision is not None else 1 << 30, first_run[sha])

    return sorted(first_run, key=order)


def _embedding_notes(baseline: ResponseSet, candidate: ResponseSet) -> list[str]:
    missing = sum(r.embedding is None for r in (*baseline.records, *candidate.records))
    if not missing:
        return []
    total = len(baseline) + len(candidate)
    if missing == total:
        return ["no answer embeddings stored: the embedding metric was skipped (run: drift-monitor analyse)"]
    return [f"{missing} of {total} responses have no stored answer embedding; the embedding metric uses the rest"]
