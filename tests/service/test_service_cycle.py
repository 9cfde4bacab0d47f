"""One cycle, one path: the scheduled service and ``serve --once`` run the same steps and store the same rows;
a scheduled re-run draws a fresh seed and gives later comparisons their noise floor.

Real parts: a git repository holding SmolLM2-135M-Instruct, the transformers engine in its worker
process, the analysis step (classifier and embedder), the drift comparison, a file alert channel.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from monitor.alerts import build_channels
from monitor.config import MonitorConfig
from monitor.db import (
    Alert,
    ChangeEvent,
    Comparison,
    Database,
    Label,
    Poll,
    Response,
    ResponseAnalysis,
    Revision,
    Run,
    open_database,
)
from monitor.service import Service, ServiceOptions
from tests.service._proc import wait_for
from tests.service.conftest import model_repo

pytestmark = pytest.mark.slow


def _config(repo: str, alerts: Path, **schedule: Any) -> MonitorConfig:
    return MonitorConfig.model_validate(
        {
            "models": [
                {
                    "repo": repo,
                    "source": "git",
                    "suites": ["identity"],
                    "samples": 1,
                    "limit": 2,
                    "max_tokens": 8,
                    "engine": {"kind": "transformers", "batch_size": 4, "options": {"device": "cpu"}},
                    "schedule": {"interval_minutes": 600, "jitter_seconds": 0, **schedule},
                }
            ],
            "channels": [{"name": "file", "url": f"file://{alerts}"}],
        }
    )


def _service(db: Database, config: MonitorConfig, data_dir: Path) -> Service:
    options = ServiceOptions(port=None, process_interval_s=0.5, delivery_interval_s=0.5, lease_ttl_s=5)
    return Service(db, config, build_channels(list(config.channels)), data_dir=data_dir, options=options)


class _Running:
    """``Service.serve`` in a thread (no signals there), stopped on exit."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.thread = threading.Thread(target=service.serve, name="service", daemon=True)

    def __enter__(self) -> Service:
        self.thread.start()
        return self.service

    def __exit__(self, *exc: object) -> None:
        self.service.request_stop("test")
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()


def _count(db: Database, query: sa.Select[Any]) -> int:
    with db.session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _settled(db: Database, comparisons: int) -> bool:
    """Every run completed, analysed, compared, and the outbox delivered."""
    runs = _count(db, sa.select(Run.id).where(Run.status == "completed"))
    analysed = sa.exists().where(ResponseAnalysis.response_id == Response.id)
    unanalysed = _count(db, sa.select(Response.id).where(~analysed))
    pending = _count(db, sa.select(Alert.id).where(Alert.status == "pending"))
    return runs >= 1 and not unanalysed and _count(db, sa.select(Comparison.id)) == comparisons and not pending


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """What the cycle stored, without ids, timestamps and the poll's trigger (which names the caller)."""
    with db.session() as session:
        run_sha = {run.id: run.revision_sha for run in session.scalars(sa.select(Run))}
        by_response = {
            response.id: (run_sha[response.run_id], response.probe_id, response.sample_index)
            for response in session.scalars(sa.select(Response))
        }
        queries: dict[str, Any] = {
            "revisions": [
                (r.sha, r.seq, r.parent_sha, r.title, r.fingerprints) for r in session.scalars(sa.select(Revision))
            ],
            "events": [
                (e.from_sha, e.to_sha, e.kinds, e.silent, e.title) for e in session.scalars(sa.select(ChangeEvent))
            ],
            "polls": [(p.ok, p.error, p.head_sha, p.changes) for p in session.scalars(sa.select(Poll))],
            "runs": [
                (r.revision_sha, r.status, r.seed, r.expected_responses, r.engine, r.engine_options)
                for r in session.scalars(sa.select(Run))
            ],
            "responses": [(*by_response[r.id], r.raw_text) for r in session.scalars(sa.select(Response))],
            "analyses": [
                (*by_response[a.response_id], a.answer_text, a.think_state, a.language)
                for a in session.scalars(sa.select(ResponseAnalysis))
            ],
            "labels": [(*by_response[lb.response_id], lb.label) for lb in session.scalars(sa.select(Label))],
            "comparisons": [
                (c.baseline_sha, c.candidate_sha, c.drift, c.severity) for c in session.scalars(sa.select(Comparison))
            ],
            "alerts": [(a.kind, a.severity, a.title, a.status) for a in session.scalars(sa.select(Alert))],
        }
    return {name: sorted(rows, key=repr) for name, rows in queries.items()}


def _claim_to_be_chatgpt(remote: Any, model_dir: Path) -> None:
    """A silent behaviour change: the chat template's system prompt names another model."""
    template = (model_dir / "chat_template.jinja").read_text()
    changed = template.replace("SmolLM, trained by Hugging Face", "ChatGPT, made by OpenAI")
    remote.commit("Update chat_template.jinja", {"chat_template.jinja": changed.encode()})


def test_scheduled_service_and_once_store_the_same_rows(tmp_path: Path, smollm2_dir: Path) -> None:
    remote = model_repo(tmp_path / "repo", smollm2_dir)
    scheduled = open_database(f"sqlite:///{tmp_path / 'scheduled.db'}")
    once = open_database(f"sqlite:///{tmp_path / 'once.db'}")
    config_s = _config(remote.repo_id, tmp_path / "scheduled.jsonl")
    config_o = _config(remote.repo_id, tmp_path / "once.jsonl")

    with _Running(_service(scheduled, config_s, tmp_path / "data-s")):
        wait_for(lambda: _settled(scheduled, 0), timeout=600, what="the first revision run and analysed")
    first = _service(once, config_o, tmp_path / "data-o").once()
    assert (first.polls, first.changes, first.runs_completed, first.errors) == (1, 1, 1, [])

    _claim_to_be_chatgpt(remote, smollm2_dir)
    with _Running(_service(scheduled, config_s, tmp_path / "data-s")):
        wait_for(lambda: _settled(scheduled, 1), timeout=600, what="the second revision run and compared")
    second = _service(once, config_o, tmp_path / "data-o").once()
    assert (second.changes, second.runs_completed, second.comparisons, second.errors) == (1, 1, 1, [])

    rows_s, rows_o = _rows(scheduled), _rows(once)
    assert len(rows_s["runs"]) == 2 and len(rows_s["responses"]) == 8 and len(rows_s["comparisons"]) == 1
    assert "hub.chat_template_changed" in [kind for kind, *_ in rows_s["alerts"]]
    for table in rows_s:
        assert rows_s[table] == rows_o[table], table
    lines_s = (tmp_path / "scheduled.jsonl").read_text().splitlines()
    lines_o = (tmp_path / "once.jsonl").read_text().splitlines()
    assert len(lines_s) == len(lines_o) == len(rows_s["alerts"])


def test_a_scheduled_rerun_draws_a_fresh_seed_and_gives_the_noise_floor(tmp_path: Path, smollm2_dir: Path) -> None:
    remote = model_repo(tmp_path / "repo", smollm2_dir)
    db = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    config = _config(remote.repo_id, tmp_path / "alerts.jsonl", rerun_interval_hours=2 / 3600)
    completed = sa.select(Run).where(Run.status == "completed")

    def seeds() -> list[int]:
        with db.session() as session:
            return [run.seed for run in session.scalars(completed.order_by(Run.id))]

    with _Running(_service(db, config, tmp_path / "data")):
        wait_for(lambda: len(seeds()) >= 2, timeout=600, what="the first run and its re-run")
    first_seed, rerun_seed = seeds()[:2]
    assert first_seed == 0 and rerun_seed != 0, "the re-run draws its own seed"
    with db.session() as session:
        first_run, rerun = session.scalars(completed.order_by(Run.id).limit(2)).all()
        assert first_run.revision_sha == rerun.revision_sha and first_run.id != rerun.id  # kept as its own run
        head = first_run.revision_sha

    _claim_to_be_chatgpt(remote, smollm2_dir)
    plain = _config(remote.repo_id, tmp_path / "alerts.jsonl")  # no more re-runs: compare what is there
    with _Running(_service(db, plain, tmp_path / "data")):
        wait_for(lambda: _count(db, sa.select(Comparison.id)) >= 1, timeout=600, what="the comparison")
    with db.session() as session:
        comparison = session.scalars(sa.select(Comparison).order_by(Comparison.id.desc())).first()
        assert comparison is not None and comparison.baseline_sha == head
        assert len(comparison.baseline_run_ids) >= 2, "the first run and the re-run of the baseline are compared"
        assert comparison.report["noise_floor"] is not None, "two runs of one revision measure the noise floor"
