"""Stored runs for the database-mode drift tests: rows inserted directly through the models."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa

from monitor.db import (
    ClassifierVersion,
    Database,
    Embedding,
    Label,
    ProbeSuite,
    Response,
    ResponseAnalysis,
    Revision,
    Run,
    WatchedModel,
    utcnow,
)

REPO = "org/model"
SHA = {name: hashlib.sha1(name.encode()).hexdigest() for name in ("one", "two", "three")}
CENTRES = np.random.default_rng(99).normal(size=(4, 8))
LABEL_INDEX = {"deepseek": 0, "openai": 1, "none": 2}


def setup_model(db: Database, shas: Sequence[str] = ("one", "two")) -> None:
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


def store_run(
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
