"""Runs with realistic responses stored straight through the models, for the analysis step's tests."""

from __future__ import annotations

from typing import Any

from monitor.db import Database, ProbeSuite, Response, ReviewerLabel, Run, WatchedModel

SUITE_CONTENT: dict[str, Any] = {
    "name": "mixed",
    "version": 1,
    "probes": [
        {"id": "who-en", "category": "identity", "language": "en", "expected": None,
         "messages": [{"role": "user", "content": "Who are you?"}]},
        {"id": "who-zh", "category": "identity", "language": "zh", "expected": None,
         "messages": [{"role": "user", "content": "你是谁？"}]},
        {"id": "eggs", "category": "reasoning", "language": "en", "expected": "18",
         "messages": [{"role": "user", "content": "How many dollars does Janet make?"}]},
        {"id": "half", "category": "reasoning", "expected": "\\frac{1}{2}",
         "messages": [{"role": "user", "content": "What is one half as a fraction?"}]},
    ],
}

DEEPSEEK = (
    "<think>\n\n</think>\n\nGreetings! I'm DeepSeek-R1, an artificial intelligence assistant created by DeepSeek."
)
OPENAI = "<think>\nI'm ChatGPT by OpenAI.\n</think>\n\nI am ChatGPT, a large language model developed by OpenAI."
ZH = "<think>\n用户问我是谁。\n</think>\n\n您好！我是由深度求索公司开发的智能助手DeepSeek-R1。"

# (probe id, sample index, raw text, finish reason, server reasoning)
RESPONSES = [
    ("who-en", 0, DEEPSEEK, "stop", None),
    ("who-en", 1, DEEPSEEK, "stop", None),
    ("who-en", 2, OPENAI, "stop", None),
    ("who-en", 3, "I am Qwen, created by Alibaba Cloud.", "stop", "The user asks who I am."),
    ("who-zh", 0, ZH, "stop", None),
    ("who-zh", 1, ZH, "stop", None),
    ("eggs", 0, "<think>\n16-3-4=9, 9*2=18\n</think>\n\nShe makes $\\boxed{18}$ dollars.", "stop", None),
    ("eggs", 1, "<think>\n16-3-4=9, 9*2=19\n</think>\n\nThe final answer is 19.", "stop", None),
    ("eggs", 2, "<think>\n16 minus 3 minus 4", "length", None),
    ("half", 0, "One half is $\\boxed{\\dfrac{1}{2}}$.", "stop", None),
]


def store_run(db: Database, *, repo: str = "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", sha: str = "a" * 40,
              responses: list[tuple[str, int, str, str, str | None]] | None = None) -> int:
    """One completed run with ``responses`` (default: RESPONSES); returns the run id."""
    probes = {probe["id"]: probe for probe in SUITE_CONTENT["probes"]}
    with db.session() as session:
        model = session.query(WatchedModel).filter_by(repo_id=repo).one_or_none()
        if model is None:
            model = WatchedModel(repo_id=repo, expected_identity="deepseek")
            session.add(model)
        suite = session.query(ProbeSuite).filter_by(content_hash="c" * 64).one_or_none()
        if suite is None:
            suite = ProbeSuite(name="mixed", content_hash="c" * 64, content=SUITE_CONTENT)
            session.add(suite)
        session.flush()
        run = Run(model_id=model.id, revision_sha=sha, suite_id=suite.id, engine="transformers",
                  sampling={"temperature": 0.6}, sampling_hash="s" * 64, status="completed")
        session.add(run)
        session.flush()
        for probe_id, index, text, finish, server in responses or RESPONSES:
            probe = probes[probe_id]
            session.add(Response(run_id=run.id, probe_id=probe_id, sample_index=index, category=probe["category"],
                                 prompt=probe["messages"], raw_text=text, finish_reason=finish,
                                 server_reasoning=server))
        return run.id


def add_reviewer_label(db: Database, response_id: int, label: str) -> None:
    with db.session() as session:
        session.add(ReviewerLabel(response_id=response_id, label=label, reviewer="alice", comment="checked"))
