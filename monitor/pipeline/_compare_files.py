"""File mode of ``compare``: export JSONL in, analysed response sets out (classified, scored, embedded).

The export format (``drift-monitor export``) has one record per response; ``probe_id``, ``sample_index``
and ``text`` are required, ``category`` (identity | reasoning | format), ``prompt``, ``expected``,
``finish_reason``, ``completion_tokens``, ``language`` (the probe's), ``run_id``, ``suite`` and
``revision`` are used when present. Records of several runs (several files, or several ``run_id`` in
one file) are pooled for the comparison and give the noise floor.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from monitor.drift import (
    Category,
    DriftPolicy,
    DriftReport,
    NoiseFloor,
    ResponseRecord,
    ResponseSet,
    ThinkState,
    compare,
    noise_floor,
)
from monitor.errors import ComparisonError, InputError
from monitor.pipeline._response_facts import prompt_text

if TYPE_CHECKING:
    from monitor.analysis import Embedder, IdentityClassifier, TextCache

__all__ = ["ExportRecord", "compare_files", "read_export", "response_sets_from_export", "text_cache_path"]

_CATEGORIES = ("identity", "reasoning", "format")


@dataclass(frozen=True)
class ExportRecord:
    """One validated line of an export file (``line`` is its 1-based line number, for messages)."""

    probe_id: str
    sample_index: int
    text: str
    category: Category
    line: int
    prompt: str | None = None
    expected: str | None = None
    finish_reason: str | None = None
    completion_tokens: int | None = None
    language: str | None = None
    run_id: str | None = None
    suite: str | None = None
    revision: str | None = None


def read_export(path: Path) -> list[ExportRecord]:
    """Read and validate an export JSONL file; any bad line is an InputError naming file and line."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist (make one with: drift-monitor export RUN_ID -o FILE)") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    records: list[ExportRecord] = []
    seen: dict[tuple[str | None, str, int], int] = {}
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}:{number}: not UTF-8 text") from None
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        record = _record(document, path, number)
        key = (record.run_id, record.probe_id, record.sample_index)
        if key in seen:
            raise InputError(
                f"{path}:{number}: probe {record.probe_id!r} sample {record.sample_index} appears twice "
                f"(first on line {seen[key]}); give each run its own run_id or file"
            )
        seen[key] = number
        records.append(record)
    if not records:
        raise InputError(f"{path} has no responses")
    return records


def _record(document: Any, path: Path, number: int) -> ExportRecord:
    where = f"{path}:{number}"
    if not isinstance(document, dict):
        raise InputError(f"{where}: each line must be a JSON object, got {type(document).__name__}")
    for key in ("probe_id", "sample_index", "text"):
        if key not in document:
            raise InputError(f"{where}: missing field {key!r} (the export format needs probe_id, sample_index, text)")
    probe_id, sample_index, text = document["probe_id"], document["sample_index"], document["text"]
    if not isinstance(probe_id, str) or not probe_id:
        raise InputError(f"{where}: probe_id must be a non-empty string")
    if isinstance(sample_index, bool) or not isinstance(sample_index, int) or sample_index < 0:
        raise InputError(f"{where}: sample_index must be a non-negative integer, got {sample_index!r}")
    if not isinstance(text, str):
        raise InputError(f"{where}: text must be a string")
    expected = document.get("expected")
    category = document.get("category") or ("reasoning" if expected is not None else "identity")
    if category not in _CATEGORIES:
        raise InputError(f"{where}: category must be identity, reasoning or format, got {category!r}")
    tokens = document.get("completion_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int)):
        raise InputError(f"{where}: completion_tokens must be an integer")
    return ExportRecord(
        probe_id=probe_id,
        sample_index=sample_index,
        text=text,
        category=cast(Category, category),
        line=number,
        prompt=prompt_text(document.get("prompt")),
        expected=None if expected is None else str(expected),
        finish_reason=_optional_str(document.get("finish_reason")),
        completion_tokens=tokens,
        language=_optional_str(document.get("language")),
        run_id=None if document.get("run_id") is None else str(document["run_id"]),
        suite=_optional_str(document.get("suite")),
        revision=_optional_str(document.get("revision")),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def response_sets_from_export(
    records: Sequence[ExportRecord],
    *,
    name: str,
    classifier: IdentityClassifier,
    embedder: Embedder | None,
    expected_identity: str | None = None,
    cache: TextCache | None = None,
) -> list[ResponseSet]:
    """Analyse export records (split, classify, score, embed, detect language): one set per run.

    ``cache`` holds languages already detected (the embedder has its own for vectors).
    """
    from monitor.pipeline._response_facts import ResponseText, analyse_texts

    facts = analyse_texts(
        [
            ResponseText(
                raw_text=r.text,
                finish_reason=r.finish_reason,
                prompt=r.prompt,
                prompt_language=r.language,
                expected=r.expected,
            )
            for r in records
        ],
        cache=cache,
    )
    identity = [i for i, r in enumerate(records) if r.category == "identity"]
    labels = classifier.classify_parts(
        [facts[i].split.answer for i in identity], [facts[i].split.reasoning for i in identity]
    )
    label_of = dict(zip(identity, labels, strict=True))
    vectors = embedder.encode([f.split.answer for f in facts]) if embedder is not None else None
    by_run: dict[str | None, list[ResponseRecord]] = {}
    for i, (record, fact) in enumerate(zip(records, facts, strict=True)):
        split, score, result = fact.split, fact.score, label_of.get(i)
        by_run.setdefault(record.run_id, []).append(
            ResponseRecord(
                probe_id=record.probe_id,
                sample_index=record.sample_index,
                category=record.category,
                label=result.label if result else None,
                reasoning_label=result.reasoning_label if result else None,
                correct=score.correct if score else None,
                think_state=cast(ThinkState, split.think_state),
                truncated=fact.features.truncated,
                answer_chars=fact.features.answer_chars,
                completion_tokens=record.completion_tokens,
                language=fact.features.language,
                prompt_language=fact.features.prompt_language,
                embedding=None if vectors is None else vectors[i],
                answer_text=split.answer,
                extracted=score.extracted if score else None,
            )
        )
    return [ResponseSet(tuple(run), expected_identity=expected_identity, name=name) for run in by_run.values()]


def compare_files(
    baseline: Sequence[Path],
    candidate: Sequence[Path],
    *,
    policy: DriftPolicy | None = None,
    expected_identity: str | None = None,
    classifier: IdentityClassifier | None = None,
    embedder: Embedder | None = None,
    embed: bool = True,
    cache: TextCache | None = None,
) -> DriftReport:
    """Compare export files of two revisions; several files (or run ids) per side are reruns.

    The texts are analysed here with the shipped identity classifier, the reasoning scorer (where a
    record has ``expected``) and the default embedding model. Suite content and sampling are unknown
    in files, so the report says so; different ``suite`` names on the two sides are refused.
    Languages and embeddings come from ``cache`` (default: ``text_cache_path()``) where a text was
    seen before, so the models behind them are loaded only for new texts.
    """
    from monitor.analysis import Embedder, IdentityClassifier, TextCache

    loaded_b = [(path, read_export(path)) for path in baseline]
    loaded_c = [(path, read_export(path)) for path in candidate]
    _require_same_suite(loaded_b, loaded_c)
    classifier = classifier or IdentityClassifier.load()
    cache = cache or TextCache(text_cache_path())
    if embed and embedder is None:
        embedder = Embedder(cache=cache)
    sides = []
    for loaded in (loaded_b, loaded_c):
        name = _side_name(loaded)
        runs = [
            run
            for path, records in loaded
            for run in response_sets_from_export(
                records,
                name=name,
                classifier=classifier,
                embedder=embedder if embed else None,
                expected_identity=expected_identity,
                cache=cache,
            )
        ]
        floor = noise_floor(runs, policy=policy) if len(runs) >= 2 else None
        sides.append((ResponseSet.merge(runs, name=name), floor))
    (set_b, floor_b), (set_c, floor_c) = sides
    floor = NoiseFloor.combine([f for f in (floor_b, floor_c) if f is not None])
    return compare(set_b, set_c, policy=policy, noise_floor=floor)


def text_cache_path() -> Path:
    """Where file comparisons keep embeddings and languages of texts they have seen."""
    from monitor.config import load_settings

    return load_settings().data_dir / "cache" / "texts.sqlite"


def _require_same_suite(
    loaded_b: Sequence[tuple[Path, list[ExportRecord]]], loaded_c: Sequence[tuple[Path, list[ExportRecord]]]
) -> None:
    suites_b = {r.suite for _, records in loaded_b for r in records if r.suite}
    suites_c = {r.suite for _, records in loaded_c for r in records if r.suite}
    if suites_b and suites_c and suites_b != suites_c:
        raise ComparisonError(
            f"the files are runs of different suites (baseline: {', '.join(sorted(suites_b))}; candidate: "
            f"{', '.join(sorted(suites_c))}); compare exports of the same suite"
        )


def _side_name(loaded: Sequence[tuple[Path, list[ExportRecord]]]) -> str:
    revisions = {r.revision for _, records in loaded for r in records if r.revision}
    if len(revisions) == 1:
        return revisions.pop()
    return ", ".join(path.name for path, _ in loaded)
