"""CharTfidf is scikit-learn's fitted TfidfVectorizer.transform, bit for bit, without importing scikit-learn."""

from __future__ import annotations

import numpy as np

from monitor.analysis import bundled_examples, split_reasoning
from monitor.analysis._identity import _make_vectorizer, _prepare
from monitor.analysis._tfidf import CharTfidf


def test_transform_is_scikit_learns_bit_for_bit() -> None:
    answers = [_prepare(split_reasoning(row["text"]).answer) for row in bundled_examples()]
    vectorizer = _make_vectorizer()
    vectorizer.fit(answers[::2])  # the other half has n-grams outside the vocabulary
    idf = np.asarray(vectorizer.idf_, dtype=np.float32)  # as a saved classifier stores it
    vectorizer.idf_ = idf
    odd = [
        "",
        "   ",
        "a",
        "I  am\tDeepSeek\n\n  (R1)",
        "ok ok ok ok ok ok ok ok",
        "我是DeepSeek",
        "x" * 50,
        "a b c d e",
    ]
    texts = answers + odd
    expected = vectorizer.transform(texts)
    got = CharTfidf(vectorizer.vocabulary_, idf, vectorizer.ngram_range).transform(texts)
    assert got.shape == expected.shape and got.dtype == expected.dtype == np.float32
    expected.sort_indices()
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data.view(np.uint32), expected.data.view(np.uint32))  # the same bits
    assert got[len(answers) + 1].nnz == 0  # whitespace only: an empty row, not NaN
