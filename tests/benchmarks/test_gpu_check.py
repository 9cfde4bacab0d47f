"""gpu_check's paths that need no GPU: the CPU dry run end to end, with the vLLM leg run on the stand-in vLLM.

On the GPU host the same script runs with the real vLLM; here the stand-in (tests/engines/fake_vllm)
takes its place in the leg's child processes, so the spawning, the comparison and the report are
exercised, not the GPU figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.benchmarks._gpu_vllm import format_leg, vllm_missing

REPO = Path(__file__).parents[2]
FAKE_VLLM = REPO / "tests" / "engines" / "fake_vllm"

pytestmark = pytest.mark.slow


def test_the_vllm_leg_says_why_it_did_not_run_where_vllm_is_missing() -> None:
    if "vllm" in sys.modules or any((Path(p) / "vllm").exists() for p in sys.path if p):
        pytest.fail("this test expects a host without vllm on sys.path")  # the test host of this project
    assert vllm_missing() == "vllm is not installed"
    assert format_leg({"ran": False, "reason": "vllm is not installed"}) == "vLLM leg not run: vllm is not installed"


def test_cpu_dry_run_with_the_vllm_leg_on_the_stand_in(tmp_path: Path) -> None:
    target = tmp_path / "gpu_check.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(FAKE_VLLM), str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("VLLM_BATCH_INVARIANT", None)
    quick = ["--device", "cpu", "--quick", "--batch-sizes", "1,2", "--tokenizer", "byte"]
    completed = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.gpu_check", *quick, "--json", str(target)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(target.read_text())
    assert [(row["batch_size"], row["mode"]) for row in report["rows"]] == [
        (1, "greedy"),
        (1, "sampled"),
        (2, "greedy"),
        (2, "sampled"),
    ]
    leg = report["vllm"]
    assert leg["ran"] is True, leg
    assert {name: run.get("version") for name, run in leg["runs"].items()} == {
        "default": "vllm 0.33.0+fake",
        "invariant_all": "vllm 0.33.0+fake",
        "invariant_one": "vllm 0.33.0+fake",
    }
    assert leg["vllm_tps"] > 0 and leg["transformers_tps"] > 0
    assert leg["greedy_exact_match"] == 0.0  # the stand-in does not run the model
    assert leg["batch_invariant_reproduces"] is True and leg["batch_invariant_same"] == 2
    assert "LLM.chat" in completed.stdout and "batch-invariant re-run" in completed.stdout
