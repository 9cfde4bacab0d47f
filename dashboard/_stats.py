"""Small, pure statistics for display: rates with Wilson intervals (monitor.drift's) and a 2-D PCA.

They work on the few aggregated rows (k out of n) that dashboard.queries returns, never on raw rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from monitor.drift import wilson_bounds

__all__ = ["add_rate", "complete_labels", "pca_2d", "probe_shifts", "vectors"]


def add_rate(frame: pd.DataFrame, k: str = "k", n: str = "n", prefix: str = "") -> pd.DataFrame:
    """Add ``rate``, ``ci_low`` and ``ci_high`` columns (prefixed) from count columns k and n."""
    out = frame.copy()
    counts = out[k].astype(float)
    totals = out[n].astype(float)
    lo, hi = wilson_bounds(counts, totals)  # the drift report's formula: one home for Wilson intervals
    with np.errstate(divide="ignore", invalid="ignore"):
        out[f"{prefix}rate"] = np.where(totals > 0, counts / totals, np.nan)
    out[f"{prefix}ci_low"] = lo
    out[f"{prefix}ci_high"] = hi
    return out


def vectors(blobs: Sequence[bytes], dims: Sequence[int]) -> np.ndarray:
    """Decode stored float32 embeddings; rows whose size disagrees with the most common dimension are NaN."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    dim = int(pd.Series(list(dims)).mode().iloc[0])
    out = np.full((len(blobs), dim), np.nan, dtype=np.float32)
    for i, (blob, size) in enumerate(zip(blobs, dims, strict=True)):
        if int(size) == dim and len(blob) == 4 * dim:
            out[i] = np.frombuffer(blob, dtype=np.float32)
    return out


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """Project rows onto their first two principal components (fewer when there is less to show)."""
    rows = matrix.shape[0]
    if rows == 0:
        return np.zeros((0, 2))
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    _, _, components = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    projected = centred @ components[:2].T
    if projected.shape[1] < 2:
        projected = np.hstack([projected, np.zeros((rows, 2 - projected.shape[1]))])
    return projected


def probe_shifts(frame: pd.DataFrame) -> pd.DataFrame:
    """Rank probes by how much they changed between the two sides of a comparison.

    ``frame`` holds the aggregated rows of ``queries.probe_changes`` (side, probe_id, category, label, n,
    scored, correct). A probe's change is the larger of its label shift (total variation distance between
    the two label distributions, 0 to 1) and its accuracy change (absolute, 0 to 1), so identity and
    reasoning probes rank on one scale.
    """
    columns = [
        "probe_id",
        "category",
        "baseline_n",
        "candidate_n",
        "baseline_top",
        "candidate_top",
        "label_shift",
        "baseline_accuracy",
        "candidate_accuracy",
        "change",
    ]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    counts = frame.pivot_table(index=["probe_id", "label"], columns="side", values="n", aggfunc="sum", fill_value=0)
    for side in ("baseline", "candidate"):
        if side not in counts.columns:
            counts[side] = 0
    totals = counts.groupby(level="probe_id").transform("sum")
    shares = counts[["baseline", "candidate"]].div(totals[["baseline", "candidate"]].replace(0, np.nan))
    shift = (shares["baseline"] - shares["candidate"]).abs().groupby(level="probe_id").sum(min_count=1) / 2
    both = totals.groupby(level="probe_id").first()
    shift[(both["baseline"] == 0) | (both["candidate"] == 0)] = np.nan

    def top(side: str) -> pd.Series:
        ranked = counts[side].reset_index().sort_values(side, ascending=False)
        ranked = ranked[ranked[side] > 0].drop_duplicates("probe_id")
        return ranked.set_index("probe_id")["label"]

    scores = frame.groupby(["probe_id", "side"])[["scored", "correct"]].sum().unstack("side", fill_value=0)
    result = pd.DataFrame(index=both.index)
    result["category"] = frame.groupby("probe_id")["category"].first()
    result["baseline_n"] = both["baseline"].astype(int)
    result["candidate_n"] = both["candidate"].astype(int)
    result["baseline_top"] = top("baseline")
    result["candidate_top"] = top("candidate")
    result["label_shift"] = shift
    for side in ("baseline", "candidate"):
        scored = scores["scored"][side] if side in scores["scored"] else pd.Series(0, index=scores.index)
        correct = scores["correct"][side] if side in scores["correct"] else pd.Series(0, index=scores.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            result[f"{side}_accuracy"] = (correct / scored.replace(0, np.nan)).reindex(result.index)
    accuracy_change = (result["candidate_accuracy"] - result["baseline_accuracy"]).abs()
    result["change"] = pd.concat([result["label_shift"], accuracy_change], axis=1).max(axis=1, skipna=True)
    result = result.reset_index().sort_values(["change", "probe_id"], ascending=[False, True], na_position="last")
    return result[columns].reset_index(drop=True)


def complete_labels(frame: pd.DataFrame, by: Sequence[str], label: str = "label") -> pd.DataFrame:
    """Add the missing (group, label) rows with k = 0, so a label nobody claimed shows as 0 of n, not as nothing.

    ``frame`` holds aggregated rows with columns ``by``, ``label``, ``k`` and ``n`` (n is the group total).
    """
    if frame.empty:
        return frame
    keys = list(by)
    totals = frame.groupby(keys, as_index=False)["n"].max()
    labels = pd.DataFrame({label: sorted(frame[label].dropna().unique())})
    grid = totals.merge(labels, how="cross")
    counts = frame[[*keys, label, "k"]]
    out = grid.merge(counts, on=[*keys, label], how="left")
    out["k"] = out["k"].fillna(0).astype(int)
    return out[[*keys, label, "k", "n"]]
