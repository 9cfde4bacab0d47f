"""CLI benchmark: whole-process wall time of what a user waits for, next to the floor of any process.

Run: ``.venv/bin/python -m tests.benchmarks.bench_cli [--repeats N] [--skip-large] [--before TREE]``

Every row is a fresh process (``python -m`` of the installed entry point, so imports count), timed from
spawn to exit; each gets one warm-up run, then the median of ``--repeats`` (default 5) runs, and the
rows are interleaved round by round so a busy machine slows all of them alike. Baselines, paired in the
same rounds:

  * ``python -c pass``: the interpreter's own start-up, the floor of every command;
  * a bare ``huggingface_hub.HfApi().model_info`` process against the same loopback Hub (what the
    simplest possible "did this repository change" script costs), the floor of ``check``.

Rows: ``drift-monitor --help``; ``check --json`` on a quiet repository (watched, polled once before,
nothing changed) on the loopback Hub of tests/hub/_hub_server.py with a SQLite database; ``compare
--json`` in file mode with embeddings, 160 vs 160 and 1,000 vs 1,000 identity answers (a think block
that varies per sample, then mostly one of a few canned introductions, as bench_analysis generates
them). The warm-up of a compare row fills the text cache (embeddings, languages), as any earlier
comparison of those answers would; ``compare, first run`` is the same command on an empty cache (one
run, it cannot be repeated), so both figures are printed. ``--before TREE`` (a source tree of another
commit, e.g. ``git archive main | tar -x -C TREE``) adds each drift-monitor row run from that tree, in
the same rounds, with its own data dir: a paired before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.benchmarks.bench_analysis import FREE_TOPICS, IDENTITY_ANSWERS, THINK_SENTENCES
from tests.hub._hub_server import HubServer
from tests.hub._scenarios import base_files

ROOT = Path(__file__).resolve().parents[2]
REPO = "bench/tiny-r1"
CLI = [sys.executable, "-c", "import sys; from monitor.cli import main; sys.argv[0] = 'drift-monitor'; main()"]
MODEL_INFO = (
    "import sys; from huggingface_hub import HfApi; info = HfApi().model_info(sys.argv[1]); print(info.sha)"
)


def identity_export(path: Path, n: int, seed: int, probes: int = 20) -> Path:
    """``n`` identity responses as ``drift-monitor export`` writes them (``probes`` probes x n/probes samples)."""
    rng = random.Random(seed)
    weights = [w for w, _ in IDENTITY_ANSWERS]
    lines = []
    for i in range(n):
        think = " ".join(rng.sample(THINK_SENTENCES, rng.randint(4, 9)))
        if rng.random() < 0.85:
            answer = rng.choices([a for _, a in IDENTITY_ANSWERS], weights=weights)[0]
        else:
            answer = (f"I'm DeepSeek-R1, created by DeepSeek. I can help with {rng.choice(FREE_TOPICS)} and "
                      f"{rng.choice(FREE_TOPICS)}. What would you like to do?")
        lines.append({"probe_id": f"who-{i % probes}", "sample_index": i // probes, "category": "identity",
                      "text": f"<think>\n{think}\n</think>\n\n{answer}", "prompt": "Who are you?",
                      "suite": "identity", "finish_reason": "stop", "language": "en"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def timed(command: Sequence[str], env: dict[str, str]) -> float:
    """Wall seconds of one process from spawn to exit; a failing command stops the benchmark.

    It runs in the source tree it times (``python -c`` puts the working directory first on sys.path).
    """
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=env["PYTHONPATH"], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[-4:])} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per row after the warm-up (default 5)")
    parser.add_argument("--skip-large", action="store_true", help="leave out the 1,000 vs 1,000 comparison")
    parser.add_argument("--before", type=Path, default=None, help="another source tree to time side by side")
    args = parser.parse_args()

    hub = HubServer().start()
    hub.repo(REPO).commit("initial commit", base_files())
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DRIFT_MONITOR_", "HF_"))},
            "PYTHONPATH": str(ROOT),
            "DRIFT_MONITOR_DATABASE_URL": f"sqlite:///{tmp / 'monitor.db'}",
            "DRIFT_MONITOR_DATA_DIR": str(tmp / "data"),
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp / "hf-home"),
            "HF_HUB_OFFLINE": "0",
            "HF_HUB_DISABLE_XET": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        envs = {"": env}
        if args.before is not None:
            envs[" (before)"] = {**env, "PYTHONPATH": str(args.before.resolve()),
                                 "DRIFT_MONITOR_DATA_DIR": str(tmp / "data-before")}
        timed([*CLI, "watch", "add", REPO], env)
        timed([*CLI, "check", "--json"], env)  # the first poll records the revision; later ones are quiet

        sizes = (160,) if args.skip_large else (160, 1000)
        files = {n: (identity_export(tmp / f"base-{n}.jsonl", n, 1), identity_export(tmp / f"cand-{n}.jsonl", n, 2))
                 for n in sizes}
        compare = {n: [*CLI, "compare", "--baseline", str(b), "--candidate", str(c), "--json"]
                   for n, (b, c) in files.items()}
        # The classifier is trained into the data dir on its very first use: not what this measures.
        for tree_env in envs.values():
            train = "from monitor.analysis import IdentityClassifier; IdentityClassifier.load()"
            timed([sys.executable, "-c", train], tree_env)
        first = {}
        for n in sizes:
            first[n] = timed(compare[n], env)  # empty text cache: embedder and language detector load
        rows: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "HfApi().model_info (bare)": ([sys.executable, "-c", MODEL_INFO, REPO], env),
        }
        for suffix, tree_env in envs.items():
            rows[f"drift-monitor --help{suffix}"] = ([*CLI, "--help"], tree_env)
            rows[f"check --json (quiet repo){suffix}"] = ([*CLI, "check", "--json"], tree_env)
            for n in sizes:
                rows[f"compare {n} v {n}, files, embeddings{suffix}"] = (compare[n], tree_env)
        for command, row_env in rows.values():
            timed(command, row_env)  # warm-up: page cache, bytecode, the compare rows' text cache
        times: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.repeats):
            for name, (command, row_env) in rows.items():
                times[name].append(timed(command, row_env))
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    floor = statistics.median(times["python -c pass"])
    hub_floor = statistics.median(times["HfApi().model_info (bare)"])
    print(f"whole processes, median of {args.repeats} after a warm-up, rows interleaved; load "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    header = f"{'what':<40} {'median s':>9} {'min s':>7} {'x python -c pass':>17} {'x bare model_info':>18}"
    print(header)
    print("-" * len(header))
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40} {median:>9.2f} {min(values):>7.2f} {median / floor:>17.1f} {median / hub_floor:>18.2f}")
    for n in sizes:
        print(f"{f'compare {n} v {n}, first run (empty cache)':<40} {first[n]:>9.2f} {'':>7} "
              f"{first[n] / floor:>17.1f} {first[n] / hub_floor:>18.2f}")
    print("\ntargets (issue 14): --help <= 0.5 s; check --json <= 1.5 s; compare 160 v 160 <= 3 s, "
          "1,000 v 1,000 <= 6 s (with embeddings)")


if __name__ == "__main__":
    main()
