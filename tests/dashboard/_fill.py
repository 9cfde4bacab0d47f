"""A realistic database for the dashboard tests, written through the monitor.db models.

It stands in for the real pipeline's output until the shared ``pipeline_db`` session fixture exists
(see tests/dashboard/conftest.py): two watched models, revisions with change kinds (silent ones
included), polls, probe suites, runs, responses (one of them hostile: a ``<script>`` tag and a markdown
link), analyses, identity labels, embeddings, reviewer corrections, comparisons with drift reports, and
alerts with deliveries. The head revision of the first model drifts: it claims to be ChatGPT, answers
worse and drops its ``<think>`` block, which is what a reviewer should find.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from monitor.db import (
    Alert,
    AlertDelivery,
    ChangeEvent,
    Comparison,
    Database,
    Embedding,
    Label,
    Poll,
    ProbeSuite,
    Response,
    ResponseAnalysis,
    ReviewerLabel,
    Revision,
    Run,
    WatchedModel,
)

HOSTILE_TEXT = "I am ChatGPT <script>alert(1)</script> see [click](http://x)"
CLASSIFIER_VERSION = "rules-2025.1"
EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 16

_T0 = dt.datetime(2025, 1, 20, 9, 0, tzinfo=dt.UTC)

_IDENTITY_PROBES = [
    ("who-are-you.en", "en", "Who are you?"),
    ("who-are-you.zh", "zh", "你是谁?"),
    ("who-are-you.fr", "fr", "Qui es-tu ?"),
    ("creator.en", "en", "Which company created you?"),
    ("model-name.de", "de", "Wie heißt du?"),
    ("creator.es", "es", "¿Quién te creó?"),
]
_REASONING_PROBES = [(f"gsm8k-{i}", str(10 * i + 2)) for i in range(1, 6)]

_ANSWERS = {
    "deepseek": {
        "en": "I am DeepSeek-R1, an AI assistant created by DeepSeek.",
        "zh": "我是DeepSeek-R1,由深度求索公司开发的智能助手。",
        "fr": "Je suis DeepSeek-R1, un assistant créé par DeepSeek.",
        "de": "Ich bin DeepSeek-R1, ein Assistent von DeepSeek.",
        "es": "Soy DeepSeek-R1, un asistente creado por DeepSeek.",
    },
    "openai": {
        "en": "I am ChatGPT, a large language model trained by OpenAI.",
        "zh": "我是ChatGPT,由OpenAI训练的大型语言模型。",
        "fr": "I am ChatGPT, made by OpenAI.",
        "de": "Ich bin ChatGPT von OpenAI.",
        "es": "Soy ChatGPT, creado por OpenAI.",
    },
    "none": {
        "en": "I'm an AI assistant here to help you.",
        "zh": "我是一个人工智能助手。",
        "fr": "Je suis un assistant d'intelligence artificielle.",
        "de": "Ich bin ein KI-Assistent.",
        "es": "Soy un asistente de inteligencia artificial.",
    },
    "other": {
        "en": "I am SmolLM, a small model made by Hugging Face.",
        "zh": "我是SmolLM,由Hugging Face开发。",
        "fr": "Je suis SmolLM, créé par Hugging Face.",
        "de": "Ich bin SmolLM von Hugging Face.",
        "es": "Soy SmolLM, creado por Hugging Face.",
    },
}


@dataclass
class FillSummary:
    """What was written, for tests that need to find a particular row."""

    model_ids: dict[str, int] = field(default_factory=dict)
    revision_shas: dict[str, list[str]] = field(default_factory=dict)
    hostile_response_id: int = 0
    open_alert_ids: list[int] = field(default_factory=list)
    comparison_ids: list[int] = field(default_factory=list)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _RevisionSpec:
    title: str
    kinds: list[str]
    silent: bool
    tags: list[str]
    files: dict[str, list[str]]
    fingerprints: dict[str, str]
    behaviour: str | None  # identity mix of runs on this revision, None: not run


_FP = {"weights": "w1", "tokenizer": "t1", "chat_template": "c1", "generation_config": "g1", "config": "k1"}

_MODEL_A = [
    _RevisionSpec(
        "Initial commit",
        ["first_seen"],
        False,
        ["v1.0"],
        {"added": ["model.safetensors", "README.md"]},
        dict(_FP),
        "good",
    ),
    _RevisionSpec("Update README.md", ["docs_only"], False, [], {"modified": ["README.md"]}, dict(_FP), None),
    _RevisionSpec(
        "Upload model.safetensors",
        ["weights_changed"],
        True,
        [],
        {"modified": ["model.safetensors"]},
        {**_FP, "weights": "w2"},
        "good",
    ),
    _RevisionSpec(
        "Update tokenizer_config.json",
        ["tokenizer_changed", "chat_template_changed"],
        True,
        [],
        {"modified": ["tokenizer_config.json", "tokenizer.json"]},
        {**_FP, "weights": "w2", "tokenizer": "t2", "chat_template": "c2"},
        "drifted",
    ),
]
_MODEL_B = [
    _RevisionSpec("Initial commit", ["first_seen"], False, [], {"added": ["model.safetensors"]}, dict(_FP), "smol"),
    _RevisionSpec(
        "Update generation_config.json",
        ["generation_config_changed"],
        True,
        [],
        {"modified": ["generation_config.json"]},
        {**_FP, "generation_config": "g2"},
        "smol",
    ),
]


def _fingerprints(repo: str, parts: dict[str, str]) -> dict[str, Any]:
    """Fingerprints shaped like the hub's: digests, per-file maps and lists."""
    out: dict[str, Any] = {key: _hash(f"{repo}{value}") for key, value in parts.items()}
    out["weight_files"] = {"model.safetensors": _hash(f"{repo}{parts['weights']}-file")}
    out["remote_code"] = {}
    out["pickle_files"] = []
    return out


def _identity_label(behaviour: str, rng: random.Random) -> str:
    roll = rng.random()
    if behaviour == "good":
        return "deepseek" if roll < 0.8 else "none"
    if behaviour == "drifted":
        return "openai" if roll < 0.75 else ("deepseek" if roll < 0.9 else "none")
    return "other" if roll < 0.85 else "none"


def fill_dashboard_data(db: Database, *, seed: int = 7) -> FillSummary:
    """Write the whole scene into ``db`` (a migrated, empty database) and say where things are."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    summary = FillSummary()
    embedded: set[str] = set()
    probe_centres = {probe: np_rng.normal(size=EMBEDDING_DIM) for probe, _, _ in _IDENTITY_PROBES}
    probe_centres.update({probe: np_rng.normal(size=EMBEDDING_DIM) for probe, _ in _REASONING_PROBES})
    with db.session() as session:
        suites = {
            "identity": ProbeSuite(
                name="identity",
                content_hash=_hash("identity-v1"),
                content={"name": "identity", "probes": [p for p, _, _ in _IDENTITY_PROBES]},
            ),
            "reasoning": ProbeSuite(
                name="reasoning",
                content_hash=_hash("reasoning-v1"),
                content={"name": "reasoning", "probes": [p for p, _ in _REASONING_PROBES]},
            ),
        }
        session.add_all(suites.values())
        session.flush()
        for repo, expected, specs in (
            ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "deepseek", _MODEL_A),
            ("HuggingFaceTB/SmolLM2-135M-Instruct", "other", _MODEL_B),
        ):
            model = WatchedModel(
                repo_id=repo,
                ref="main",
                source="hf",
                expected_identity=expected,
                created_at=_T0,
                settings={"suites": ["identity", "reasoning"]},
            )
            session.add(model)
            session.flush()
            summary.model_ids[repo] = model.id
            shas: list[str] = []
            runs_by_sha: dict[str, dict[str, list[int]]] = {}
            parent: str | None = None
            for seq, spec in enumerate(specs):
                sha = _sha(f"{repo}@{seq}")
                when = _T0 + dt.timedelta(days=3 * seq)
                manifest = {
                    "files": [
                        {"path": p, "size": 1000 + i}
                        for i, p in enumerate(
                            sorted(
                                {
                                    "README.md",
                                    "config.json",
                                    "model.safetensors",
                                    "tokenizer.json",
                                    "tokenizer_config.json",
                                }
                            )
                        )
                    ]
                }
                revision = Revision(
                    model_id=model.id,
                    sha=sha,
                    seq=seq,
                    parent_sha=parent,
                    title=spec.title,
                    committed_at=when,
                    tags=spec.tags,
                    manifest=manifest,
                    fingerprints=_fingerprints(repo, spec.fingerprints),
                    seen_at=when + dt.timedelta(minutes=20),
                )
                session.add(revision)
                session.add(
                    ChangeEvent(
                        model_id=model.id,
                        from_sha=parent,
                        to_sha=sha,
                        kinds=spec.kinds,
                        silent=spec.silent,
                        title=spec.title,
                        committed_at=when,
                        details={
                            "added": [],
                            "removed": [],
                            "modified": [],
                            **spec.files,
                            "version_signal": f"tag {spec.tags[0]}" if spec.tags else None,
                        },
                        detected_at=when + dt.timedelta(minutes=20),
                    )
                )
                session.flush()
                shas.append(sha)
                parent = sha
                if spec.behaviour is None:
                    continue
                run_ids: dict[str, list[int]] = {"identity": [], "reasoning": []}
                repeats = 2 if (repo.startswith("deepseek") and seq == 2) else 1  # a same-revision rerun
                for suite_name, suite in suites.items():
                    for repeat in range(repeats if suite_name == "identity" else 1):
                        run = _write_run(
                            session,
                            model,
                            revision,
                            suite,
                            spec.behaviour,
                            when,
                            rng,
                            np_rng,
                            probe_centres,
                            embedded,
                            seed=repeat,
                            summary=summary,
                        )
                        run_ids[suite_name].append(run.id)
                runs_by_sha[sha] = run_ids
            model.head_sha = shas[-1]
            summary.revision_shas[repo] = shas
            _write_polls(session, model, shas, failing_last=repo.startswith("HuggingFaceTB"))
            _write_comparisons(session, model, shas, runs_by_sha, summary)
        _write_alerts(session, summary)
        session.flush()
    return summary


def _write_run(
    session: Any,
    model: WatchedModel,
    revision: Revision,
    suite: ProbeSuite,
    behaviour: str,
    when: dt.datetime,
    rng: random.Random,
    np_rng: np.random.Generator,
    centres: dict[str, np.ndarray],
    embedded: set[str],
    *,
    seed: int,
    summary: FillSummary,
) -> Run:
    started = when + dt.timedelta(hours=1, minutes=10 * seed)
    run = Run(
        model_id=model.id,
        revision_id=revision.id,
        revision_sha=revision.sha,
        suite_id=suite.id,
        engine="transformers",
        engine_version="4.46.0",
        device="cpu",
        sampling={"temperature": 0.6, "top_p": 0.95, "max_tokens": 512},
        sampling_hash=_hash("t0.6"),
        seed=seed,
        samples=4 if suite.name == "identity" else 3,
        status="succeeded",
        created_at=started,
        started_at=started,
        finished_at=started + dt.timedelta(minutes=12),
        heartbeat_at=started,
    )
    session.add(run)
    session.flush()
    drifted = behaviour == "drifted"
    items: list[tuple[str, str, str, str | None]]
    if suite.name == "identity":
        items = [(probe, lang, prompt, None) for probe, lang, prompt in _IDENTITY_PROBES]
        samples = 4
    else:
        items = [(probe, "en", f"Solve problem {probe}.", gold) for probe, gold in _REASONING_PROBES]
        samples = 3
    for probe, lang, prompt, gold in items:
        for sample in range(samples):
            if gold is None:
                label = _identity_label(behaviour, rng)
                answer = _ANSWERS[label][lang]
                answer_lang = "en" if (drifted and label == "openai" and rng.random() < 0.5) else lang
                correct = None
                extracted = None
            else:
                label = "none"
                correct = rng.random() < (0.45 if drifted else 0.85)
                extracted = gold if correct else str(int(gold) + 1 + sample)
                answer = f"The final answer is \\boxed{{{extracted}}}."
                answer_lang = "en"
            think_state = "absent" if (drifted and rng.random() < 0.7) else "present"
            truncated = rng.random() < (0.2 if drifted else 0.05)
            if truncated:
                think_state = "unterminated"
            reasoning = None if think_state == "absent" else f"Let me think about {probe} step by step."
            raw = (
                f"<think>\n{reasoning}\n</think>\n{answer}"
                if think_state == "present"
                else f"<think>\n{reasoning}"
                if think_state == "unterminated"
                else answer
            )
            hostile = drifted and probe == "who-are-you.en" and sample == 0 and seed == 0
            if hostile:
                label, answer, answer_lang, think_state, truncated = "openai", HOSTILE_TEXT, "en", "present", False
                reasoning = "The user asks who I am."
                raw = f"<think>\n{reasoning}\n</think>\n{answer}"
            response = Response(
                run_id=run.id,
                probe_id=probe,
                sample_index=sample,
                category=suite.name,
                prompt=[{"role": "user", "content": prompt}],
                raw_text=raw,
                prompt_tokens=12,
                completion_tokens=len(raw) // 4,
                finish_reason="length" if truncated else "stop",
                latency_s=round(rng.uniform(0.5, 3.0), 3),
                created_at=started,
            )
            session.add(response)
            session.flush()
            if hostile:
                summary.hostile_response_id = response.id
            answer_text = "" if think_state == "unterminated" else answer
            answer_hash = _hash(answer_text)
            session.add(
                ResponseAnalysis(
                    response_id=response.id,
                    analyzer_version="split-1",
                    reasoning_text=reasoning,
                    answer_text=answer_text,
                    think_state=think_state,
                    truncated=truncated,
                    answer_chars=len(answer_text),
                    think_chars=len(reasoning or ""),
                    language=answer_lang,
                    prompt_language=lang,
                    answer_hash=answer_hash,
                    extracted_answer=extracted,
                    extraction_method="boxed" if extracted else None,
                    correct=correct,
                    analyzed_at=started,
                )
            )
            session.add(
                Label(
                    response_id=response.id,
                    classifier_version=CLASSIFIER_VERSION,
                    label=label,
                    reasoning_label="none",
                    confidence=round(rng.uniform(0.7, 0.99), 3),
                    evidence=answer_text[:60] or None,
                    created_at=started,
                )
            )
            if answer_hash not in embedded:
                embedded.add(answer_hash)
                shift = 1.5 if drifted else 0.0
                vector = centres[probe] + shift + np_rng.normal(scale=0.3, size=EMBEDDING_DIM)
                session.add(
                    Embedding(
                        text_hash=answer_hash,
                        model_name=EMBEDDING_MODEL,
                        dim=EMBEDDING_DIM,
                        vector=vector.astype(np.float32).tobytes(),
                    )
                )
            if not drifted and probe == "creator.en" and sample == 1 and seed == 0 and label == "none":
                session.add(
                    ReviewerLabel(
                        response_id=response.id,
                        label="deepseek",
                        reviewer="alice",
                        comment="says DeepSeek in the reasoning",
                        created_at=started,
                    )
                )
    return run


def _write_polls(session: Any, model: WatchedModel, shas: list[str], *, failing_last: bool) -> None:
    for i in range(6):
        started = _T0 + dt.timedelta(days=2 * i, minutes=5)
        failed = (i == 2) or (failing_last and i == 5)
        session.add(
            Poll(
                model_id=model.id,
                started_at=started,
                finished_at=started + dt.timedelta(seconds=2),
                ok=not failed,
                error="HTTP 503 from the Hub after 4 attempts" if failed else None,
                head_sha=None if failed else shas[min(i, len(shas) - 1)],
                requests=1 if failed else 2,
                changes=0 if failed else 1,
                trigger="schedule",
            )
        )
    model.last_polled_at = _T0 + dt.timedelta(days=10, minutes=5)
    model.last_poll_error = "HTTP 503 from the Hub after 4 attempts" if failing_last else None
    model.consecutive_poll_failures = 1 if failing_last else 0


def _metric(
    name: str,
    baseline: float,
    candidate: float,
    p: float,
    p_adj: float,
    significant: bool,
    test: str,
    n: tuple[int, int],
) -> dict[str, Any]:
    diff = candidate - baseline
    return {
        "name": name,
        "baseline": baseline,
        "candidate": candidate,
        "difference": diff,
        "ci": [diff - 0.12, diff + 0.12],
        "test": test,
        "p_value": p,
        "p_adjusted": p_adj,
        "significant": significant,
        "n_baseline": n[0],
        "n_candidate": n[1],
    }


def _write_comparisons(
    session: Any,
    model: WatchedModel,
    shas: list[str],
    runs_by_sha: dict[str, dict[str, list[int]]],
    summary: FillSummary,
) -> None:
    run_shas = [sha for sha in shas if sha in runs_by_sha]
    for i, (base, cand) in enumerate(itertools.pairwise(run_shas)):
        drifted = model.expected_identity == "deepseek" and cand == run_shas[-1]
        metrics = [
            _metric(
                "identity.claim_rate.openai",
                0.0,
                0.71 if drifted else 0.0,
                1e-9 if drifted else 1.0,
                1e-8 if drifted else 1.0,
                drifted,
                "fisher_exact",
                (24, 24),
            ),
            _metric(
                "identity.expected_rate",
                0.8,
                0.17 if drifted else 0.79,
                1e-7 if drifted else 0.9,
                1e-6 if drifted else 1.0,
                drifted,
                "fisher_exact",
                (24, 24),
            ),
            _metric(
                "reasoning.accuracy",
                0.87,
                0.47 if drifted else 0.8,
                0.004 if drifted else 0.6,
                0.02 if drifted else 1.0,
                drifted,
                "mcnemar",
                (15, 15),
            ),
            _metric(
                "format.think_present_rate",
                0.95,
                0.2 if drifted else 0.93,
                1e-6 if drifted else 0.8,
                1e-5 if drifted else 1.0,
                drifted,
                "fisher_exact",
                (39, 39),
            ),
            _metric(
                "embedding.mmd.who-are-you.en",
                0.0,
                0.4 if drifted else 0.01,
                0.2,
                0.6,
                False,
                "mmd_permutation",
                (4, 4),
            ),
        ]
        report = {
            "drift": drifted,
            "severity": "major" if drifted else "none",
            "metrics": metrics,
            "notes": [
                "engine transformers 4.46.0 on both sides",
                "noise floor from 2 runs of the baseline" if i else "no noise floor (one run each)",
            ],
        }
        comparison = Comparison(
            model_id=model.id,
            suite_hash=_hash("identity-v1"),
            baseline_sha=base,
            candidate_sha=cand,
            baseline_run_ids=runs_by_sha[base]["identity"] + runs_by_sha[base]["reasoning"],
            candidate_run_ids=runs_by_sha[cand]["identity"] + runs_by_sha[cand]["reasoning"],
            kind="revision",
            drift=drifted,
            severity=report["severity"],
            report=report,
            created_at=_T0 + dt.timedelta(days=3 * (i + 1), hours=3),
        )
        session.add(comparison)
        session.flush()
        summary.comparison_ids.append(comparison.id)


def _write_alerts(session: Any, summary: FillSummary) -> None:
    model_a, model_b = summary.model_ids.values()
    sha_a = summary.revision_shas["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"]
    rows = [
        ("weights_changed", "high", model_a, f"Silent weights change at {sha_a[2][:7]}", "delivered", None),
        (
            "drift",
            "high",
            model_a,
            f"Behaviour drift (major) at {sha_a[3][:7]}: claims to be ChatGPT",
            "delivered",
            None,
        ),
        ("chat_template_changed", "medium", model_a, f"Silent chat template change at {sha_a[3][:7]}", "pending", None),
        ("poll_failed", "low", model_b, "Polling HuggingFaceTB/SmolLM2-135M-Instruct failed", "failed", None),
        (
            "first_seen",
            "low",
            model_a,
            "Now watching deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            "delivered",
            ("bob", "expected: first poll"),
        ),
    ]
    for i, (kind, severity, model_id, title, status, ack) in enumerate(rows):
        created = _T0 + dt.timedelta(days=2 * i, hours=1)
        alert = Alert(
            kind=kind,
            severity=severity,
            dedup_key=f"{kind}:{model_id}:{i}",
            model_id=model_id,
            title=title,
            payload={"kind": kind, "model_id": model_id, "detail": title},
            status=status,
            attempts=1 if status != "failed" else 8,
            last_error="connection refused" if status == "failed" else None,
            created_at=created,
            delivered_at=created + dt.timedelta(minutes=1) if status == "delivered" else None,
            acknowledged_by=ack[0] if ack else None,
            acknowledged_at=created + dt.timedelta(hours=2) if ack else None,
            ack_comment=ack[1] if ack else None,
        )
        session.add(alert)
        session.flush()
        if ack is None:
            summary.open_alert_ids.append(alert.id)
        for channel in ("slack", "file"):
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    channel=channel,
                    status="delivered" if status == "delivered" else status,
                    attempts=alert.attempts,
                    last_error=alert.last_error,
                    delivered_at=alert.delivered_at,
                )
            )


def add_hostile_response(db: Database) -> int:
    """A response whose every text field is hostile, under an existing run of the first model."""
    with db.session() as session:
        repo = sorted(session.scalars(sa.select(WatchedModel.repo_id)).all(), key=str.lower)[0]
        run = session.scalars(
            sa.select(Run).join(WatchedModel, WatchedModel.id == Run.model_id).where(WatchedModel.repo_id == repo)
        ).first()
        assert run is not None
        response = Response(
            run_id=run.id,
            probe_id="hostile.probe",
            sample_index=0,
            category="identity",
            prompt=[{"role": "user", "content": "**bold** <b>who</b> are you?"}],
            raw_text=f"<think>\n<img src=x onerror=alert(2)>\n</think>\n{HOSTILE_TEXT}",
        )
        session.add(response)
        session.flush()
        session.add(
            ResponseAnalysis(
                response_id=response.id,
                analyzer_version="test",
                reasoning_text="<img src=x onerror=alert(2)>",
                answer_text=HOSTILE_TEXT,
                think_state="present",
                answer_hash="hostile",
            )
        )
        session.add(
            Label(
                response_id=response.id,
                classifier_version=session.scalar(sa.select(Label.classifier_version).limit(1)) or "v",
                label="openai",
                confidence=0.9,
                evidence=HOSTILE_TEXT,
            )
        )
        return response.id
