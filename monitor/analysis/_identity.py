"""The identity classifier: which identity a response claims, judged on its final answer.

Two layers. The rule layer (``_rules``) finds known names and gives each a role; a first-person claim
decides the label outright, with the sentence as evidence. Where the rules find no claim (an unusual
phrasing, an unknown persona, a negation they could not place), a learned layer decides: logistic
regression on character n-grams of the answer plus the rule layer's findings as features. The learned
layer may only pick a vendor label whose name occurs in the answer, so it can never invent an identity
(this keeps ``openai`` precise). The same procedure on the ``<think>`` part gives ``reasoning_label``.

A trained model is two files, ``model.npz`` (weights, idf) and ``model.json`` (vocabulary, labels,
version, metrics): no pickle, so a model directory is safe to load and stable across library versions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from monitor.analysis._aliases import BUILTIN_LABELS, Aliases
from monitor.analysis._rules import ROLES, RuleResult, apply_rules, normalize_text
from monitor.analysis._split import split_reasoning
from monitor.analysis._tfidf import CharTfidf
from monitor.errors import AnalysisError, InputError

if TYPE_CHECKING:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

# scikit-learn is imported where a classifier is fitted (applying one needs only scipy.sparse, see _tfidf)
# and scipy where one is applied: importing this module (every CLI command that touches the pipeline
# does) must not cost their seconds of start-up.

__all__ = [
    "IDENTITY_LABELS",
    "IdentityClassifier",
    "IdentityResult",
    "bundled_examples",
    "evaluate",
    "load_examples",
    "train_classifier",
]

IDENTITY_LABELS = ("deepseek", "qwen", "openai", "anthropic", "google", "meta", "microsoft", "mistral", "other", "none")
_CLAIM_LABELS = (*BUILTIN_LABELS, "other")
_FLAGS = ("refusal", "generic_self", "first_person", "question", "unknown_claim")
_STRENGTHS = ("strong", "mixed", "weak", "none")
# Bump when features or decision logic change: a new revision is a new classifier version. The source
# of the modules that decide (rules, aliases, this one) is also hashed into every version, so a code
# change can never leave labels under a version that no longer reproduces them.
_REVISION = "1"


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    package = resources.files("monitor.analysis")
    digest = hashlib.sha256(_REVISION.encode())
    for name in ("_identity.py", "_tfidf.py", "_rules.py", "_structure.py", "_aliases.py", "_split.py",
                 "data/aliases.toml", "data/cues.toml"):
        digest.update(package.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]
_MAX_CHARS = 4000  # the answer part an identity claim can live in; longer tails add cost, not evidence


@dataclass(frozen=True)
class IdentityResult:
    """The identity claimed by one response.

    ``label`` is judged on the final answer; ``reasoning_label`` on the ``<think>`` part (None when the
    response has no reasoning). ``confidence`` is in [0, 1]; ``evidence`` is the span that decided,
    None when nothing in the text speaks to identity.
    """

    label: str
    confidence: float
    evidence: str | None
    reasoning_label: str | None


@dataclass(frozen=True)
class _Decision:
    label: str
    confidence: float
    evidence: str | None


def _rule_vector(rule: RuleResult) -> list[float]:
    row = []
    for label in _CLAIM_LABELS:
        for role in ROLES:
            row.append(float(any(_fold(hit.hit.label) == label and hit.role == role for hit in rule.roles)))
    verdict = _fold(rule.label) if rule.label else "none"
    row.extend(float(verdict == label) for label in IDENTITY_LABELS)
    row.extend(float(rule.strength == strength) for strength in _STRENGTHS)
    row.extend(float(flag in rule.flags) for flag in _FLAGS)
    row.append(float(bool(rule.roles)))
    return row


def _fold(label: str) -> str:
    """User-added identities count as ``other`` for the learned layer (it has never seen them)."""
    return label if label in IDENTITY_LABELS else "other"


def _prepare(text: str) -> str:
    return normalize_text(text[:_MAX_CHARS]).casefold()


class IdentityClassifier:
    """A trained identity classifier (rule layer + learned layer); see the module docstring."""

    def __init__(
        self,
        *,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: Sequence[str],
        version: str,
        metrics: dict[str, Any] | None = None,
        aliases: Aliases | None = None,
        rule_weight: float = 1.0,
    ) -> None:
        self._tfidf = CharTfidf(vocabulary, idf, _NGRAMS)
        self._coef = coef
        self._intercept = intercept
        self.classes: tuple[str, ...] = tuple(classes)
        self.version = version
        self.metrics: dict[str, Any] = metrics or {}
        self.aliases = aliases or Aliases.builtin()
        self._rule_weight = rule_weight
        self.path: Path | None = None

    # -- loading and saving --------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None = None, *, aliases: Path | Aliases | None = None,
             cache_dir: Path | None = None) -> IdentityClassifier:
        """Load a trained model directory, or (``path`` None) the default model.

        The default model is trained from the dataset shipped with the package on first use and cached
        under ``cache_dir`` (default: ``<data_dir>/classifiers``); it needs no network. ``aliases`` adds
        a user alias file (names for the built-in labels, or new identities) to the rule layer.
        """
        extra = aliases if isinstance(aliases, Aliases) else Aliases.load(aliases) if aliases else None
        classifier = _default_classifier(cache_dir) if path is None else _load_dir(Path(path))
        return classifier.with_aliases(extra) if extra is not None else classifier

    def with_aliases(self, aliases: Aliases) -> IdentityClassifier:
        """The same model with another alias table (the learned weights are unchanged).

        Labels can differ under other aliases, so the version does too: ``<version>+a<table fingerprint>``.
        """
        clone = object.__new__(IdentityClassifier)
        clone.__dict__.update(self.__dict__)
        clone.aliases = aliases
        base = self.version.split("+", 1)[0]
        builtin = aliases.fingerprint == Aliases.builtin().fingerprint
        clone.version = base if builtin else f"{base}+a{aliases.fingerprint[:8]}"
        clone.metrics = {**self.metrics, "aliases": aliases.fingerprint}
        return clone

    def save(self, out_dir: Path) -> Path:
        """Write ``model.npz`` and ``model.json`` into ``out_dir``; return the directory."""
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / "model.tmp.npz"
        np.savez_compressed(tmp, idf=self._tfidf.idf, coef=self._coef, intercept=self._intercept)
        tmp.replace(out_dir / "model.npz")
        meta = {
            "format": 1,
            "version": self.version,
            "revision": _REVISION,
            "classes": list(self.classes),
            "rule_weight": self._rule_weight,
            "metrics": self.metrics,
            "vocabulary": self._tfidf.vocabulary,
        }
        (out_dir / "model.json.tmp").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        (out_dir / "model.json.tmp").replace(out_dir / "model.json")
        return out_dir

    # -- classification -----------------------------------------------------------------------------

    def classify(self, texts: Sequence[str]) -> list[IdentityResult]:
        """Classify raw responses (``<think>`` is split off here): one result per text, in order."""
        answers: list[str] = []
        reasonings: list[str | None] = []
        for text in texts:
            split = split_reasoning(text)
            answers.append(split.answer)
            reasonings.append(split.reasoning)
        return self.classify_parts(answers, reasonings)

    def classify_parts(self, answers: Sequence[str], reasonings: Sequence[str | None]) -> list[IdentityResult]:
        """Classify responses already split into answer and reasoning (a server may have split them)."""
        if len(answers) != len(reasonings):
            raise ValueError("answers and reasonings must have the same length")
        decided = self._decide(list(answers))
        think_texts = [text for text in reasonings if text]
        think_decided = iter(self._decide(think_texts)) if think_texts else iter(())
        results = []
        for decision, reasoning in zip(decided, reasonings, strict=True):
            reasoning_label = next(think_decided).label if reasoning else None
            results.append(IdentityResult(decision.label, decision.confidence, decision.evidence, reasoning_label))
        return results

    def _decide(self, texts: list[str]) -> list[_Decision]:
        """Decide each distinct text once (sampled answers repeat a lot), then fan out in input order."""
        if not texts:
            return []
        distinct = list(dict.fromkeys(texts))
        rules = [apply_rules(text[:_MAX_CHARS], self.aliases) for text in distinct]
        probabilities = self._probabilities(distinct, rules)
        decided = {
            # An empty answer is a real response (a model that says nothing): it claims nothing.
            text: self._combine(rule, probs) if text.strip() else _Decision("none", 1.0, None)
            for text, rule, probs in zip(distinct, rules, probabilities, strict=True)
        }
        return [decided[text] for text in texts]

    def _probabilities(self, texts: list[str], rules: list[RuleResult]) -> np.ndarray:
        matrix = _design(self._tfidf.transform([_prepare(text) for text in texts]), rules, self._rule_weight)
        scores = matrix @ self._coef.T + self._intercept
        scores = np.asarray(scores)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def _combine(self, rule: RuleResult, probs: np.ndarray) -> _Decision:
        p = dict(zip(self.classes, (float(x) for x in probs), strict=True))
        if rule.label is not None and rule.strength in ("strong", "mixed"):
            learned = p.get(_fold(rule.label), 0.0)
            base = 0.9 if rule.strength == "strong" else 0.6
            return _Decision(rule.label, round(base + (1 - base) * learned, 4), rule.evidence)
        # The learned layer decides, among labels the text gives evidence for.
        present = {_fold(hit.hit.label) for hit in rule.roles}
        allowed = [label for label in self.classes if label in present or label in ("other", "none")]
        label = max(allowed, key=lambda candidate: p.get(candidate, 0.0))
        total = sum(p.get(candidate, 0.0) for candidate in allowed) or 1.0
        confidence = round(p.get(label, 0.0) / total, 4)
        if rule.label is not None and _fold(rule.label) == label:
            # A weak rule claim (unknown persona, "based on ...") agreeing with the learned layer.
            return _Decision(rule.label, max(confidence, 0.6), rule.evidence)
        return _Decision(label, confidence, self._evidence_for(label, rule))

    @staticmethod
    def _evidence_for(label: str, rule: RuleResult) -> str | None:
        if label == "other" and rule.unknown_claims:
            return rule.unknown_claims[0]
        for hit in rule.roles:
            if _fold(hit.hit.label) == label:
                return hit.evidence
        if label == "none":
            for hit in rule.roles:
                return hit.evidence
        return None


_NGRAMS = (2, 4)  # character n-gram lengths, for fitting (scikit-learn) and applying (CharTfidf) alike


def _make_vectorizer() -> TfidfVectorizer:
    """The vectorizer a classifier is fitted with; CharTfidf must stay its transform (no other settings)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=_NGRAMS, min_df=2, sublinear_tf=True, lowercase=False,
                           dtype=np.float32)


def _design(text_matrix: Any, rules: list[RuleResult], rule_weight: float) -> sp.csr_matrix:
    import scipy.sparse as sp

    rule_matrix = sp.csr_matrix(np.asarray([_rule_vector(rule) for rule in rules], dtype=np.float32) * rule_weight)
    return sp.hstack([text_matrix, rule_matrix], format="csr")


# --- training ---------------------------------------------------------------------------------------


def _answers(examples: Sequence[tuple[str, str]]) -> list[str]:
    return [split_reasoning(text).answer for text, _ in examples]


def _fit(answers: list[str], labels: list[str], rules: list[RuleResult], *, rule_weight: float,
         c: float) -> tuple[TfidfVectorizer, LogisticRegression]:
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    vectorizer = _make_vectorizer()
    text_matrix = vectorizer.fit_transform([_prepare(text) for text in answers])
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    # One thread: OpenMP spinning on a busy machine makes this ten times slower, not faster.
    with threadpool_limits(limits=1):
        model.fit(_design(text_matrix, rules, rule_weight), labels)
    return vectorizer, model


_C = 8.0
_RULE_WEIGHT = 1.0


def train_classifier(
    examples: Sequence[tuple[str, str]],
    *,
    out_dir: Path,
    cross_validate: bool = True,
    folds: int = 5,
    seed: int = 0,
) -> tuple[IdentityClassifier, dict[str, Any]]:
    """Train on ``(raw response, label)`` pairs, save into ``out_dir``, and return the model and metrics.

    Metrics (with ``cross_validate``) come from stratified ``folds``-fold cross-validation of the whole
    classifier (rules and learned layer together): macro-F1, per-class precision/recall/F1, confusion.
    """
    examples = [(text, label) for text, label in examples]
    unknown = sorted({label for _, label in examples} - set(IDENTITY_LABELS))
    if unknown:
        raise AnalysisError(f"training labels must be among {', '.join(IDENTITY_LABELS)}; got {', '.join(unknown)}")
    labels = [label for _, label in examples]
    if len(set(labels)) < 2:
        raise AnalysisError("training needs examples of at least two labels")
    aliases = Aliases.builtin()
    answers = _answers(examples)
    rules = [apply_rules(text[:_MAX_CHARS], aliases) for text in answers]
    digest = hashlib.sha256()
    for text, label in examples:
        digest.update(f"{label}\t{text}\n".encode())
    digest.update(f"code={_code_fingerprint()};C={_C};rw={_RULE_WEIGHT};aliases={aliases.fingerprint}".encode())
    version = "idc-" + digest.hexdigest()[:12]

    metrics: dict[str, Any] = {"examples": len(examples), "labels": dict(sorted(_counts(labels).items()))}
    if cross_validate:
        metrics["cross_validation"] = _cross_validate(examples, answers, rules, folds=folds, seed=seed)
    vectorizer, model = _fit(answers, labels, rules, rule_weight=_RULE_WEIGHT, c=_C)
    classifier = IdentityClassifier(
        vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        coef=np.asarray(model.coef_, dtype=np.float32),
        intercept=np.asarray(model.intercept_, dtype=np.float32),
        classes=[str(c) for c in model.classes_],
        version=version,
        metrics=metrics,
        aliases=aliases,
        rule_weight=_RULE_WEIGHT,
    )
    classifier.save(out_dir)
    classifier.path = out_dir
    return classifier, metrics


def _cross_validate(examples: list[tuple[str, str]], answers: list[str], rules: list[RuleResult], *,
                    folds: int, seed: int) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray([label for _, label in examples])
    smallest = min(_counts(list(labels)).values())
    folds = max(2, min(folds, smallest))
    predicted = np.empty(len(labels), dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(labels)), labels):
        vectorizer, model = _fit([answers[i] for i in train_index], list(labels[train_index]),
                                 [rules[i] for i in train_index], rule_weight=_RULE_WEIGHT, c=_C)
        fold = IdentityClassifier(
            vocabulary=vectorizer.vocabulary_, idf=vectorizer.idf_, coef=model.coef_, intercept=model.intercept_,
            classes=[str(c) for c in model.classes_], version="cv", rule_weight=_RULE_WEIGHT,
        )
        decisions = fold.classify([examples[i][0] for i in test_index])
        for index, decision in zip(test_index, decisions, strict=True):
            predicted[index] = decision.label
    report = evaluate(list(labels), [str(p) for p in predicted])
    report["folds"] = folds
    return report


def evaluate(gold: Sequence[str], predicted: Sequence[str], *,
             languages: Sequence[str | None] | None = None) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, macro-F1, accuracy and the confusion matrix.

    With ``languages`` (one code per example, None when unknown), ``per_language`` holds the same
    figures per language: a classifier that is good in English and blind in Turkish shows here.
    """
    report = _evaluate(gold, predicted)
    if languages is not None:
        if len(languages) != len(gold):
            raise ValueError("languages must have one entry per example")
        groups: dict[str, list[int]] = {}
        for index, language in enumerate(languages):
            groups.setdefault(language or "unknown", []).append(index)
        report["per_language"] = {}
        for language, indices in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
            part = _evaluate([gold[i] for i in indices], [predicted[i] for i in indices])
            report["per_language"][language] = {
                "n": part["n"], "accuracy": part["accuracy"], "macro_f1": part["macro_f1"],
                "errors": sum(gold[i] != predicted[i] for i in indices),
            }
    return report


def _evaluate(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_fscore_support

    labels = [label for label in IDENTITY_LABELS if label in set(gold) | set(predicted)]
    labels += sorted((set(gold) | set(predicted)) - set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if label in set(gold)]
    # Counted here: sklearn's confusion_matrix warns on a single-label subset (one language's rows).
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g], index[p]] += 1
    return {
        "macro_f1": float(np.mean([f1[i] for i in present])) if present else 0.0,
        "accuracy": float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])) if gold else 0.0,
        "per_class": {
            label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                    "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion": matrix.tolist(),
        "n": len(gold),
    }


def _counts(labels: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return counts


# --- datasets and the default model -----------------------------------------------------------------


def load_examples(path: Path) -> list[dict[str, Any]]:
    """Read a labeled JSONL file (``text`` and ``label`` per line); bad lines raise InputError with a number."""
    rows = []
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{path} line {number}: not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise InputError(f"{path} line {number}: needs a string field `text` (an empty answer is \"\")")
        if row.get("label") not in IDENTITY_LABELS:
            raise InputError(f"{path} line {number}: `label` must be one of {', '.join(IDENTITY_LABELS)}")
        rows.append(row)
    return rows


def bundled_examples(name: str = "identity_dataset.jsonl") -> list[dict[str, Any]]:
    """The labeled examples shipped with the package (``identity_heldout.jsonl`` is the held-out split)."""
    with resources.as_file(resources.files("monitor.analysis").joinpath("data", name)) as path:
        return load_examples(path)


_DEFAULT_LOCK = threading.Lock()
_DEFAULT: dict[str, IdentityClassifier] = {}


def _default_classifier(cache_dir: Path | None) -> IdentityClassifier:
    data = resources.files("monitor.analysis").joinpath("data", "identity_dataset.jsonl").read_bytes()
    key = hashlib.sha256(data + f"code={_code_fingerprint()};C={_C};rw={_RULE_WEIGHT}".encode()).hexdigest()[:16]
    with _DEFAULT_LOCK:
        if key in _DEFAULT:
            return _DEFAULT[key]
        directory = (cache_dir or _data_dir() / "classifiers") / f"default-{key}"
        classifier = None
        if (directory / "model.json").exists():
            try:
                classifier = _load_dir(directory)
            except AnalysisError:
                classifier = None  # a damaged cache is retrained, not fatal
        if classifier is None:
            examples = [(row["text"], row["label"]) for row in bundled_examples()]
            try:
                classifier, _ = train_classifier(examples, out_dir=directory, cross_validate=False)
            except OSError:  # read-only data dir: train in memory
                classifier = _train_in_memory(examples)
        _DEFAULT[key] = classifier
        return classifier


def _train_in_memory(examples: list[tuple[str, str]]) -> IdentityClassifier:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        classifier, _ = train_classifier(examples, out_dir=Path(tmp), cross_validate=False)
    return classifier


def _data_dir() -> Path:
    from monitor.config import load_settings

    return Path(load_settings().data_dir)


def _load_dir(directory: Path) -> IdentityClassifier:
    meta_path, weights_path = directory / "model.json", directory / "model.npz"
    if not meta_path.exists() or not weights_path.exists():
        raise AnalysisError(f"{directory} is not a classifier directory (needs model.json and model.npz); "
                            "train one with: drift-monitor classifier train")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(weights_path, allow_pickle=False) as weights:
            idf, coef, intercept = weights["idf"], weights["coef"], weights["intercept"]
    except (OSError, ValueError, KeyError) as exc:
        raise AnalysisError(f"classifier in {directory} cannot be read ({exc}); retrain it") from None
    if meta.get("format") != 1:
        raise AnalysisError(f"classifier in {directory} has unknown format {meta.get('format')!r}; retrain it")
    classifier = IdentityClassifier(
        vocabulary=meta["vocabulary"], idf=idf, coef=coef, intercept=intercept, classes=meta["classes"],
        version=meta["version"], metrics=meta.get("metrics", {}), rule_weight=float(meta.get("rule_weight", 1.0)),
    )
    classifier.path = directory
    return classifier
