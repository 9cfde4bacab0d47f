"""Response analysis: reasoning/answer split, identity classifier, reasoning scorer, embeddings, features.

Pure functions and models: data in, results out. Nothing here touches the database or an engine; the
pipeline (``monitor.pipeline.analyse_pending``) stores what these compute.
"""

from monitor.analysis._aliases import Aliases, AliasHit
from monitor.analysis._embed import DEFAULT_EMBEDDING_MODEL, Embedder, Precision
from monitor.analysis._features import LANGUAGES, ResponseFeatures, detect_language, detect_languages, response_features
from monitor.analysis._identity import (
    IDENTITY_LABELS,
    IdentityClassifier,
    IdentityResult,
    bundled_examples,
    evaluate,
    load_examples,
    train_classifier,
)
from monitor.analysis._rules import RuleResult, apply_rules
from monitor.analysis._scoring import Score, answers_equal, extract_answer, normalize_answer, score_answer
from monitor.analysis._split import Split, ThinkState, split_reasoning

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "IDENTITY_LABELS",
    "LANGUAGES",
    "AliasHit",
    "Aliases",
    "Embedder",
    "IdentityClassifier",
    "IdentityResult",
    "Precision",
    "ResponseFeatures",
    "RuleResult",
    "Score",
    "Split",
    "ThinkState",
    "answers_equal",
    "apply_rules",
    "bundled_examples",
    "detect_language",
    "detect_languages",
    "evaluate",
    "extract_answer",
    "load_examples",
    "normalize_answer",
    "response_features",
    "score_answer",
    "split_reasoning",
    "train_classifier",
]
