"""The executor a config asks for."""

from __future__ import annotations

from pathlib import Path

from monitor.config import ExecutorConfig
from monitor.db import Database
from monitor.executors._local import LocalExecutor
from monitor.executors._protocol import Executor

__all__ = ["build_executor"]


def build_executor(config: ExecutorConfig, *, db: Database, data_dir: Path, owner: str | None = None) -> Executor:
    """``local`` (a worker process here) or ``ray`` (connects to the cluster; needs PostgreSQL and Ray)."""
    if config.kind == "ray":
        from monitor.executors._ray import RayExecutor

        return RayExecutor(config, db=db, data_dir=data_dir, owner=owner)
    return LocalExecutor(db=db, data_dir=data_dir)
