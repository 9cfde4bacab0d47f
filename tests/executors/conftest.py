"""A local Ray cluster for the executor tests: started by the session, on 127.0.0.1, with logical GPUs.

Two logical GPUs and two CPUs, as ``ray.init(num_cpus=2, num_gpus=2)`` makes them: Ray schedules GPU
tasks by these numbers while the transformers engine runs on the CPU (no CUDA here). Ray binds to the
loopback address (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes it use 127.0.0.1 instead of the host's
address) and authenticates with a token made for the session. ``ray.shutdown()`` at the end stops every
process the cluster started; the fixture checks that none survives.

The cluster's processes inherit ``PGPASSFILE`` naming a file no test has written yet (``RayCluster.pgpass``):
the node's own password store, as libpq reads it on every connection, so a test can give the node a
database password (or take it away) without restarting the cluster. Absent, libpq ignores it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class RayCluster:
    """The running local cluster: its address (for a service subprocess), its temp dir, its node's pgpass file."""

    address: str
    temp_dir: str
    env: dict[str, str]
    pgpass: Path


def ray_processes(temp_dir: str) -> list[str]:
    """Command lines of live processes that belong to this cluster (they name its temp dir)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if temp_dir in line and "ps -eo" not in line]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    node_dir = Path(tempfile.mkdtemp(prefix="dmnode", dir="/tmp"))  # not under Ray's temp dir: none of its records
    env = {
        "PGPASSFILE": str(node_dir / "pgpass"),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # before Ray is imported: it reads the auth mode then
    import ray

    temp_dir = tempfile.mkdtemp(prefix="dmray", dir="/tmp")
    try:
        context = ray.init(
            num_cpus=2,
            num_gpus=2,
            include_dashboard=False,
            namespace="drift-monitor",
            log_to_driver=False,
            configure_logging=False,
            _temp_dir=temp_dir,
        )
        address = str(context.address_info["address"])
        assert address.startswith("127.0.0.1:"), address
        yield RayCluster(address, temp_dir, env, node_dir / "pgpass")
    finally:
        ray.shutdown()
        deadline = time.monotonic() + 15
        while ray_processes(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = ray_processes(temp_dir)
        shutil.rmtree(temp_dir, ignore_errors=True)
        shutil.rmtree(node_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        assert not left, f"Ray processes outlived the cluster: {left}"
