"""Run ``drift-monitor serve`` as a real subprocess and talk to it over loopback HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

DRIFT_MONITOR = str(Path(sys.executable).with_name("drift-monitor"))


def start_serve(*args: str, env: dict[str, str] | None = None, log: Path) -> subprocess.Popen[bytes]:
    """Start ``drift-monitor serve ARGS`` in its own process group (its workers have their own and die with it)."""
    handle = log.open("ab")
    return subprocess.Popen(
        [DRIFT_MONITOR, "serve", *args],
        env={**os.environ, **(env or {})},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll until ``condition()`` is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the server is not up yet
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})")


def wait_healthy(port: int, *, timeout: float = 60.0) -> dict[str, Any]:
    def healthy() -> dict[str, Any] | None:
        status, body = http_get(f"http://127.0.0.1:{port}/healthz")
        return json.loads(body) if status == 200 else None

    return dict(wait_for(healthy, timeout=timeout, what=f"/healthz on port {port}"))


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
    """Send ``sig`` to the service process and wait for its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout=timeout)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the service's process group, like a power cut; its worker (a group of its own) dies with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
