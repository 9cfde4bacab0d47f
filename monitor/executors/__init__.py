"""Executors generate runs: ``local`` (a worker process beside the service) or ``ray`` (tasks on a Ray cluster).

The run step hands an executor whole runs (``RunJob``) and gets each one's ``JobOutcome`` back as it
finishes; the run's final status is then decided from what the database holds. Ray is an optional
extra (``pip install 'drift-monitor[ray]'``), imported only when ``[executor] kind = "ray"``.
"""

from monitor.executors._claims import Claim, ShardState, claim_shard, ensure_shards, read_shards, shard_ranges
from monitor.executors._factory import build_executor
from monitor.executors._local import LocalExecutor
from monitor.executors._protocol import Executor, JobOutcome, ModelRef, ProgressCallback, RunJob
from monitor.executors._resources import task_resources
from monitor.executors._status import TASK_STATES, task_counts, tasks_by_node, tasks_of_runs
from monitor.executors._task import ShardResult, generate_shard, resolve_on_node

__all__ = [
    "TASK_STATES",
    "Claim",
    "Executor",
    "JobOutcome",
    "LocalExecutor",
    "ModelRef",
    "ProgressCallback",
    "RunJob",
    "ShardResult",
    "ShardState",
    "build_executor",
    "claim_shard",
    "ensure_shards",
    "generate_shard",
    "read_shards",
    "resolve_on_node",
    "shard_ranges",
    "task_counts",
    "task_resources",
    "tasks_by_node",
    "tasks_of_runs",
]
