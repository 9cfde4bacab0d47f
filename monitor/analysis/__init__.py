"""Response analysis: reasoning/answer split, identity classifier, reasoning scorer, embeddings, features.

Pure functions and models: data in, results out. Nothing here touches the database or an engine; the
pipeline (``monitor.pipeline.analyse_pending``) stores what these compute.
"""

from monitor.analysis._aliases import Aliases, AliasHit
from monitor.analysis._embed import DEFAULT_EMBEDDING_MODEL, Embedder, Precision
from monitor.analysis._features import (
    LANGUAGES,
    ResponseFeatures,
    detect_language,
    detect_languages,
    detector_id,
    response_features,
)
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
from monitor.analysis._text_cache import TextCache, text_hash

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
    "TextCache",
    "ThinkState",
    "answers_equal",
    "apply_rules",
    "bundled_examples",
    "detect_language",
    "detect_languages",
    "detector_id",
    "evaluate",
    "extract_answer",
    "load_examples",
    "normalize_answer",
    "response_features",
    "score_answer",
    "split_reasoning",
    "text_hash",
    "train_classifier",
]
