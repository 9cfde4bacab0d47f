"""Applying a fitted character n-gram tf-idf without scikit-learn (whose import alone takes seconds).

The identity classifier is trained with scikit-learn's ``TfidfVectorizer(analyzer="char_wb",
sublinear_tf=True, norm="l2", lowercase=False, dtype=float32)``; classifying only needs its
``transform``, which is short. This is that transform, step for step in the same float32 and
float64 arithmetic (n-grams inside word boundaries, counts, ``1 + log(tf)``, times idf, rows divided
by their L2 norm summed in order in double precision), so its matrix is bit for bit scikit-learn's
(tests/analysis/test_tfidf.py checks that on the shipped dataset).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["CharTfidf"]

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's whitespace normalisation before char_wb n-grams


class CharTfidf:
    """The ``transform`` of a fitted char_wb, sublinear, L2-normalised float32 ``TfidfVectorizer``."""

    def __init__(self, vocabulary: Mapping[str, int], idf: np.ndarray, ngram_range: tuple[int, int]) -> None:
        self.vocabulary = dict(vocabulary)
        self.idf = np.asarray(idf)
        self.ngram_range = ngram_range

    def _counts(self, text: str) -> Counter[str]:
        """How often each n-gram occurs (padded words; a word shorter than n counts once, whole)."""
        min_n, max_n = self.ngram_range
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            padded = f" {word} "
            length = len(padded)
            for n in range(min_n, max_n + 1):
                if length <= n:
                    grams.append(padded)
                    break
                grams.extend(map(padded.__getitem__, map(slice, range(length - n + 1), range(n, length + 1))))
        return Counter(grams)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One L2-normalised tf-idf row per text (n-grams outside the vocabulary are ignored)."""
        import scipy.sparse as sp

        lookup = self.vocabulary.get
        row_columns: list[np.ndarray] = []
        row_counts: list[np.ndarray] = []
        indptr = [0]
        for text in texts:
            counted = self._counts(text)
            columns = np.fromiter(map(lookup, counted, itertools.repeat(-1)), dtype=np.int64, count=len(counted))
            known = columns >= 0
            order = np.argsort(columns[known])  # columns are distinct within a row: scikit-learn's order
            row_columns.append(columns[known][order])
            row_counts.append(np.fromiter(counted.values(), dtype=np.float32, count=len(counted))[known][order])
            indptr.append(indptr[-1] + int(known.sum()))
        columns = np.concatenate([np.zeros(0, dtype=np.int64), *row_columns]).astype(np.int32)
        data = np.concatenate([np.zeros(0, dtype=np.float32), *row_counts])
        np.log(data, data)
        data += 1.0
        data *= self.idf[columns]
        squares = data * data
        for start, end in itertools.pairwise(indptr):
            if start == end:
                continue
            # float32 squares summed in double one after another, in column order, as scikit-learn does
            # (cumsum adds sequentially; sum would add pairwise and differ in the last bit).
            total = float(np.cumsum(squares[start:end], dtype=np.float64)[-1])
            if total != 0.0:
                data[start:end] = (data[start:end].astype(np.float64) / np.sqrt(total)).astype(np.float32)
        return sp.csr_matrix(
            (data, columns, np.asarray(indptr, dtype=np.int32)), shape=(len(texts), len(self.idf)), dtype=np.float32
        )
