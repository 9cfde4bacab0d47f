"""Session-wide analysis fixtures: the default classifier (trained once) and the embedding model (loaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.analysis import Embedder, IdentityClassifier


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("classifiers")


@pytest.fixture(scope="session")
def classifier(classifier_cache: Path) -> IdentityClassifier:
    """The default classifier, trained from the shipped dataset once per session (memoised in-process)."""
    return IdentityClassifier.load(cache_dir=classifier_cache)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()
