"""Probe-suite benchmark: what validation and hashing cost on top of parsing the YAML.

Run: ``.venv/bin/python -m tests.benchmarks.bench_probes [--reps N]``

For each suite (the built-in identity and reasoning suites, MATH-500 and the whole GSM8K test set
imported from ../shared/data), the baseline is PyYAML's C safe loader on the same text
(``yaml.load(text, yaml.CSafeLoader)``); the monitor's ``load_suite`` reads the same file, refuses
duplicate keys, validates every probe and builds the frozen dataclasses. Hashing (canonical JSON +
sha256) and the benchmark import itself are timed alongside.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import yaml

from tests._shared_data import SHARED_DATA

DATA = SHARED_DATA


def best(function: Callable[[], object], reps: int) -> float:
    """Median seconds of ``reps`` calls."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print one row per suite: probes, baseline parse, load_suite, ratio, hash, import."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        os.environ["DRIFT_MONITOR_DATA_DIR"] = data_dir
        from monitor.probes import import_benchmark, load_suite, suite_files

        imports = {
            "math500": ("math500", DATA / "math500.jsonl"),
            "gsm8k": ("gsm8k", DATA / "gsm8k_test.jsonl"),
        }
        import_seconds: dict[str, float] = {}
        for name, (fmt, path) in imports.items():
            import_seconds[name] = best(lambda fmt=fmt, path=path, name=name: import_benchmark(fmt, path, name), 1)
        files = suite_files()
        header = f"{'suite':<10} {'probes':>6} {'yaml.CSafeLoader':>17} {'load_suite':>11} {'ratio':>6}"
        print(header + f" {'content_hash':>13} {'import':>8}")
        for name in ("identity", "reasoning", "math500", "gsm8k"):
            text = files[name].read_text(encoding="utf-8")
            baseline = best(lambda text=text: yaml.load(text, Loader=yaml.CSafeLoader), args.reps)
            ours = best(lambda name=name: load_suite(name), args.reps)
            suite = load_suite(name)
            hashing = best(lambda suite=suite: dataclasses.replace(suite).content_hash, args.reps)  # uncached copy
            imported = f"{import_seconds[name] * 1000:7.0f}ms" if name in import_seconds else f"{'-':>8}"
            print(
                f"{name:<10} {len(suite.probes):>6} {baseline * 1000:>15.1f}ms {ours * 1000:>9.1f}ms "
                f"{ours / baseline:>5.2f}x {hashing * 1000:>11.1f}ms {imported}"
            )


if __name__ == "__main__":
    main()
