"""Hub polling benchmark: requests and time per poll, next to a bare ``HfApi.model_info`` call.

Run: ``.venv/bin/python -m tests.benchmarks.bench_hub [--reps N] [--files N]``

Everything runs against the loopback Hub of tests/hub (the real huggingface_hub client over HTTP on
127.0.0.1) and a SQLite file. Baselines, measured in the same process on the same repository:
``HfApi.model_info(repo)`` (what a naive watcher would call) and ``model_info(files_metadata=True)``.
Rows: the monitor's quiet poll (``poll_model`` when nothing changed, database writes included) and a
poll that finds 50 new commits (each one a weights change; then each one a chat-template change,
which also downloads tokenizer_config.json on both sides).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ["HF_HUB_OFFLINE"] = "0"
os.environ.pop("HF_TOKEN", None)


def median_seconds(function: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print one row per measurement: requests, median ms, ratio to the bare model_info call."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=50, help="repetitions of the one-request measurements")
    parser.add_argument("--poll-reps", type=int, default=3, help="repetitions of the many-commit polls")
    parser.add_argument("--files", type=int, default=170, help="files in the repository (DeepSeek-V3 has ~170)")
    parser.add_argument("--commits", type=int, default=50)
    args = parser.parse_args()

    import huggingface_hub.constants as constants
    from huggingface_hub import HfApi
    from huggingface_hub.utils import _detect_agent

    from monitor.db import WatchedModel, open_database
    from monitor.hub import HfSource
    from monitor.pipeline import poll_model
    from tests.hub._hub_server import LFS, HubServer
    from tests.hub._scenarios import TEMPLATE_R1_FEB, TEMPLATE_R1_JAN, base_files, tokenizer_config

    constants.HF_HUB_OFFLINE = False
    _detect_agent._registry = {"standardEnvVars": [], "harnesses": {}}
    server = HubServer().start()
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    db = open_database(f"sqlite:///{work / 'bench.db'}")
    counter = [0]

    shards = max(1, args.files - len(base_files()))
    first_shard = f"model-00001-of-{shards:05d}.safetensors"

    def files() -> dict[str, bytes | LFS | None]:
        out = base_files()
        for i in range(shards):
            out[f"model-{i + 1:05d}-of-{shards:05d}.safetensors"] = LFS(f"shard-{i}".encode() * 40)
        return out

    def new_repo() -> tuple[str, HfSource]:
        counter[0] += 1
        repo_id = f"bench/model-{counter[0]}"
        server.repo(repo_id).commit("initial", files())
        with db.session() as session:
            session.add(WatchedModel(repo_id=repo_id, ref="main", source="hf"))
        source = HfSource(repo_id, endpoint=server.url, cache_dir=work / "cache", attempts=3, retry_wait_s=0.01)
        return repo_id, source

    api = HfApi(endpoint=server.url)
    repo_id, source = new_repo()
    poll_model(db, repo_id, source)  # first sighting
    api.model_info(repo_id)  # warm the connection pool like the rest

    rows: list[tuple[str, float, float]] = []

    def measure(name: str, function: Callable[[], object]) -> None:
        server.clear_log()
        function()
        requests = len(server.requests())
        rows.append((name, requests, median_seconds(function, args.reps)))

    measure("HfApi.model_info(repo)  [baseline]", lambda: api.model_info(repo_id))
    measure("HfApi.model_info(files_metadata=True)", lambda: api.model_info(repo_id, files_metadata=True))
    measure("HfSource.head(ref)", lambda: source.head("main"))
    measure("poll_model, quiet (db included)", lambda: poll_model(db, repo_id, source))

    def poll_after_commits(change: str) -> tuple[float, int, int]:
        times, requests, changes = [], 0, 0
        for _ in range(args.poll_reps):
            repo, src = new_repo()
            poll_model(db, repo, src)
            fake = server.repo(repo)
            for i in range(args.commits):
                if change == "weights":
                    fake.commit(f"Upload weights {i}", {first_shard: LFS(f"w{i}".encode() * 40)})
                else:
                    template = (TEMPLATE_R1_FEB if i % 2 == 0 else TEMPLATE_R1_JAN) + "{# " + str(i) + " #}"
                    fake.commit(f"Update template {i}", {"tokenizer_config.json": tokenizer_config(template)})
            server.clear_log()
            start = time.perf_counter()
            result = poll_model(db, repo, src)
            times.append(time.perf_counter() - start)
            requests, changes = len(server.requests()), len(result.changes)
            assert result.requests == requests
        return statistics.median(times), requests, changes

    for change in ("weights", "chat template"):
        seconds, requests, changes = poll_after_commits(change)
        assert changes == args.commits
        rows.append((f"poll_model, {args.commits} new commits ({change})", requests, seconds))

    baseline = rows[0][2]
    print(f"loopback Hub, {args.files} files per revision; median of {args.reps} (one-request rows)")
    print(f"and of {args.poll_reps} (many-commit rows); requests counted by the server")
    print(f"{'measurement':<48} {'requests':>8} {'ms':>9} {'x baseline':>10} {'ms/request':>10}")
    for name, requests, seconds in rows:
        print(
            f"{name:<48} {requests:>8.0f} {seconds * 1000:>9.2f} {seconds / baseline:>10.2f}"
            f" {seconds * 1000 / max(requests, 1):>10.2f}"
        )
    db.dispose()
    server.stop()


if __name__ == "__main__":
    main()
