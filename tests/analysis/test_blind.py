"""The blind evaluation (written before the structure layer, never tuned on) and the development split.

See docs/identity-evaluation.md: the blind set's first score was macro-F1 0.617 (openai recall 0.43).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.analysis import IDENTITY_LABELS, IdentityClassifier, evaluate

DATA = Path(__file__).parent / "data"
RULE_LANGUAGES = {"en", "zh", "es", "fr", "de", "ja", "ru", "ko", "pt", "it"}  # those _rules.py has patterns for


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]


def test_the_blind_set_covers_languages_labels_and_shapes() -> None:
    rows = _rows("identity_blind.jsonl")
    languages = Counter(row["lang"] for row in rows)
    assert len(rows) >= 300 and len(languages) >= 20 and len(set(languages) - RULE_LANGUAGES) >= 10
    assert {row["label"] for row in rows} == set(IDENTITY_LABELS)
    kinds = {row["kind"] for row in rows}
    assert {"mention", "comparison_only", "comparison_claim", "negation_only", "negation_claim", "quoted",
            "markdown", "table", "kv", "think_long", "think_truncated", "empty"} <= kinds
    assert not {row["text"] for row in rows if row["text"]} & {row["text"] for row in _rows("identity_dev.jsonl")}


@pytest.mark.parametrize("name", ["identity_blind.jsonl", "identity_dev.jsonl"])
def test_targets_hold_in_every_language(classifier: IdentityClassifier, name: str) -> None:
    rows = _rows(name)
    results = classifier.classify([row["text"] for row in rows])
    report = evaluate([row["label"] for row in rows], [r.label for r in results],
                      languages=[row["lang"] for row in rows])
    openai = report["per_class"]["openai"]
    print(f"{name}: macro-F1 {report['macro_f1']:.3f}, openai P {openai['precision']:.3f} R {openai['recall']:.3f}")
    for language, scores in report["per_language"].items():
        print(f"  {language}: n {scores['n']} accuracy {scores['accuracy']:.3f} errors {scores['errors']}")
    assert report["macro_f1"] >= 0.95
    assert openai["precision"] >= 0.97 and openai["recall"] >= 0.95
