"""``compare`` on files remembers embeddings and languages: a second comparison of seen texts loads no model.

The second comparison runs as the real command in a fresh interpreter (this test process has long
imported everything), which names the heavy packages it imported and prints the report; the report
must be the first one's, to the last digit.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.analysis import Embedder, IdentityClassifier, TextCache, detect_languages
from monitor.pipeline import compare_files
from monitor.pipeline._compare_files import text_cache_path
from tests.drift.test_drift_cli import _export

ROOT = Path(__file__).resolve().parents[2]
MODEL_PACKAGES = ("torch", "transformers", "sentence_transformers", "lingua", "sklearn")
TORCH_PACKAGES = ("torch", "transformers", "sentence_transformers")

_SECOND_RUN = """
import json, sys
from monitor.cli import main
sys.argv = ["drift-monitor", "compare", "--baseline", sys.argv[1], "--candidate", sys.argv[2], "--json"]
try:
    main()
except SystemExit as exc:
    assert not exc.code, exc.code
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> IdentityClassifier:
    return IdentityClassifier.load(cache_dir=tmp_path_factory.mktemp("classifiers"))


def _share_with_fresh_interpreters(classifier: IdentityClassifier) -> None:
    """Put the trained default classifier in the test's data dir, where the CLI below finds it (no retraining)."""
    assert classifier.path is not None
    shutil.copytree(classifier.path, Path(os.environ["DRIFT_MONITOR_DATA_DIR"]) / "classifiers" / classifier.path.name)


def _compare_in_a_fresh_interpreter(baseline: Path, candidate: Path) -> tuple[dict[str, Any], set[str]]:
    """``drift-monitor compare --json`` in a new process: its report and the top-level packages it imported."""
    result = subprocess.run(
        [sys.executable, "-c", _SECOND_RUN, str(baseline), str(candidate)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_a_second_compare_of_seen_texts_loads_no_model_and_reports_the_same(
    tmp_path: Path, classifier: IdentityClassifier
) -> None:
    _share_with_fresh_interpreters(classifier)
    baseline = _export(tmp_path / "base.jsonl", 0.02, seed=1)
    candidate = _export(tmp_path / "cand.jsonl", 0.3, seed=2)

    first = compare_files([baseline], [candidate], classifier=classifier)
    assert text_cache_path().is_file()

    report, imported = _compare_in_a_fresh_interpreter(baseline, candidate)
    assert sorted(imported.intersection(MODEL_PACKAGES)) == []
    assert report == json.loads(json.dumps(first.to_json(), default=str))
    assert any(m["name"] == "embedding_shift" for m in first.to_json()["metrics"])


def test_a_compare_of_new_texts_embeds_them_without_torch(tmp_path: Path, classifier: IdentityClassifier) -> None:
    """The default embedding model runs through numpy on CPU: new answers import no torch stack."""
    _share_with_fresh_interpreters(classifier)
    baseline = _export(tmp_path / "base.jsonl", 0.02, seed=3)
    candidate = _export(tmp_path / "cand.jsonl", 0.5, seed=4)
    assert not text_cache_path().exists()  # every text is new to this data directory

    report, imported = _compare_in_a_fresh_interpreter(baseline, candidate)
    assert sorted(imported.intersection(TORCH_PACKAGES)) == []
    shift = {m["name"]: m for m in report["metrics"]}["embedding_shift"]
    assert shift["flagged"] and shift["n_baseline"] == shift["n_candidate"] == 96
    # The verdict torch's vectors give (sentence-transformers under bfloat16, with a cache of its own).
    torch_report = compare_files(
        [baseline], [candidate], classifier=classifier, embedder=Embedder(precision="bfloat16", model_name="torch")
    ).to_json()
    expected = {m["name"]: m for m in torch_report["metrics"]}["embedding_shift"]
    assert (shift["detail"], shift["flagged"]) == (expected["detail"], expected["flagged"])
    assert shift["statistic"] == pytest.approx(expected["statistic"], rel=1e-2)


def test_the_cache_round_trips_vectors_and_languages(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "cache" / "texts.sqlite")
    assert cache.vectors("m", ["a"]) == {} and not cache.path.exists()  # a lookup creates nothing
    vector = np.array([0.25, -1.0, 3.5], dtype=np.float32)
    cache.put_vectors("m", {"a": vector})
    cache.put_languages("d", {"hello there": "en", "???": None})
    reopened = TextCache(cache.path)
    assert np.array_equal(reopened.vectors("m", ["a", "b"])["a"], vector)
    assert reopened.vectors("other model", ["a"]) == {}
    assert reopened.languages("d", ["hello there", "???", "new"]) == {"hello there": "en", "???": None}


def test_a_cache_that_cannot_be_written_is_a_warning_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be", encoding="utf-8")
    cache = TextCache(blocked / "texts.sqlite")
    with caplog.at_level(logging.WARNING):
        assert detect_languages(["Good morning, how are you today?"], cache=cache) == ["en"]
    assert "cannot be used" in caplog.text
