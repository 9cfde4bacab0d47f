"""Importing benchmarks (JSONL with id, problem, answer) as reasoning suites in ``<data_dir>/probes``."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from monitor.engines._protocol import Message
from monitor.errors import InputError
from monitor.probes._model import _ID_RE, _NAME_RE, REASONING_INSTRUCTION, Probe, Suite, SuiteSampling
from monitor.probes._parsing import _is_int, _parse_suite
from monitor.probes._yaml import _display, _load_yaml, suite_to_yaml, suites_dirs

__all__ = ["IMPORT_SAMPLING", "BenchmarkFormat", "import_benchmark"]

BenchmarkFormat = Literal["math500", "gsm8k", "aime"]

_BENCHMARK_TITLES: dict[str, str] = {"math500": "MATH-500", "gsm8k": "GSM8K", "aime": "AIME"}

#: Imported suites sample like DeepSeek's evaluation (temperature 0.6, top_p 0.95, 32k tokens), 4 per problem.
IMPORT_SAMPLING = SuiteSampling(temperature=0.6, top_p=0.95, max_tokens=32768, samples=4, greedy=False)


def _benchmark_probe(fmt: BenchmarkFormat, record: Any, line: int, source: str, name: str) -> Probe:
    where = f"{source}: line {line}"
    if not isinstance(record, dict):
        raise InputError(f"{where}: must be a JSON object with problem and answer")
    problem = record.get("problem")
    if not isinstance(problem, str) or not problem.strip():
        raise InputError(f"{where}: field 'problem' must be a non-empty string")
    answer = record.get("answer")
    if _is_int(answer):
        answer = str(answer)
    if not isinstance(answer, str) or not answer.strip():
        raise InputError(f"{where}: field 'answer' must be a non-empty string or integer")
    answer = answer.strip()
    tags: list[str] = [fmt]
    if fmt == "aime":
        if not re.fullmatch(r"\d{1,3}", answer):
            raise InputError(f"{where}: field 'answer' must be an integer 0-999 for AIME, got {answer!r}")
        answer = str(int(answer))  # "025" -> "25": what a model writes in \boxed{}
    if fmt == "math500":
        subject, level = record.get("subject"), record.get("level")
        if isinstance(subject, str) and subject.strip():
            tags.append("subject:" + re.sub(r"\s+", "-", subject.strip().lower()))
        if _is_int(level):
            tags.append(f"level:{level}")
    raw_id = record.get("id", f"{name}-{line:05d}")
    probe_id = str(raw_id) if _is_int(raw_id) or isinstance(raw_id, str) else ""
    if not _ID_RE.match(probe_id):
        raise InputError(f"{where}: field 'id' must use letters, digits, '.', '_', ':' or '-', got {raw_id!r}")
    prompt = f"{problem.strip()}\n\n{REASONING_INSTRUCTION}"
    return Probe(
        id=probe_id,
        category="reasoning",
        messages=(Message(role="user", content=prompt),),
        language="en",
        tags=tuple(tags),
        expected=answer,
    )


def import_benchmark(
    fmt: BenchmarkFormat,
    path: Path,
    name: str,
    *,
    limit: int | None = None,
    sampling: SuiteSampling | None = None,
) -> Path:
    """Turn a benchmark JSONL (fields id, problem, answer) into a reasoning suite in ``<data_dir>/probes``.

    Each problem becomes one probe whose prompt ends with :data:`REASONING_INSTRUCTION` and whose
    expected answer is the dataset's. The file is written atomically; returns its path.
    """
    if fmt not in _BENCHMARK_TITLES:
        raise InputError(f"unknown benchmark format {fmt!r}; use one of {', '.join(_BENCHMARK_TITLES)}")
    if not _NAME_RE.match(name):
        raise InputError(f"suite name {name!r} must be lowercase letters, digits, - and _ (at most 100)")
    builtin = suites_dirs()[0] / f"{name}.yaml"
    if builtin.exists():
        raise InputError(f"{name!r} is a built-in suite; choose another --name")
    if limit is not None and limit < 1:
        raise InputError(f"--limit must be >= 1, got {limit}")
    source = _display(Path(path))
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{source} does not exist") from None
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{source} cannot be read: {exc.strerror}") from None

    probes: list[Probe] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if limit is not None and len(probes) >= limit:
            break
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        probe = _benchmark_probe(fmt, record, number, source, name)
        if probe.id in seen:
            raise InputError(f"{source}: line {number}: id {probe.id!r} repeats line {seen[probe.id]}")
        seen[probe.id] = number
        probes.append(probe)
    if not probes:
        raise InputError(f"{source} holds no problems (expected one JSON object per line)")

    suite = Suite(
        name=name,
        version=1,
        description=f"{_BENCHMARK_TITLES[fmt]}: {len(probes)} problems imported from {Path(path).name}",
        sampling=sampling or IMPORT_SAMPLING,
        probes=tuple(probes),
    )
    text = suite_to_yaml(
        suite, header=f"Imported by `drift-monitor probes import --format {fmt}` from {Path(path).name}."
    )
    if _parse_suite(_load_yaml(text, name), name) != suite:  # the file must load back as exactly this suite
        raise InputError(f"{source}: the suite does not survive a YAML round trip; please report this")
    target_dir = suites_dirs()[1]
    target = target_dir / f"{name}.yaml"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write {_display(target)}: {exc.strerror or exc}") from None
    return target
