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

    def _ngrams(self, text: str) -> list[str]:
        min_n, max_n = self.ngram_range
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            padded = f" {word} "
            length = len(padded)
            for n in range(min_n, max_n + 1):
                grams.extend(padded[offset : offset + n] for offset in range(max(length - n, 0) + 1))
                if length <= n:  # a short word counts once, at its shortest n
                    break
        return grams

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """One L2-normalised tf-idf row per text (n-grams outside the vocabulary are ignored)."""
        import scipy.sparse as sp

        vocabulary = self.vocabulary
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            row: dict[int, int] = {}
            for gram in self._ngrams(text):
                column = vocabulary.get(gram)
                if column is not None:
                    row[column] = row.get(column, 0) + 1
            for column in sorted(row):
                indices.append(column)
                counts.append(row[column])
            indptr.append(len(indices))
        data = np.asarray(counts, dtype=np.float32)
        columns = np.asarray(indices, dtype=np.int32)
        np.log(data, data)
        data += 1.0
        data *= self.idf[columns]
        for start, end in itertools.pairwise(indptr):
            total = 0.0
            for value in (data[start:end] * data[start:end]).tolist():
                total += value  # float32 squares summed in double, in column order, as scikit-learn does
            if total != 0.0:
                data[start:end] = (data[start:end].astype(np.float64) / np.sqrt(total)).astype(np.float32)
        return sp.csr_matrix(
            (data, columns, np.asarray(indptr, dtype=np.int32)), shape=(len(texts), len(self.idf)), dtype=np.float32
        )
