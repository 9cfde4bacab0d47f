"""The seam between the poll and where revisions come from (the Hub, a git repository, a test double).

Errors a source raises (all from ``monitor.errors``):

- ``ModelNotFoundError``: the repository is gone (deleted, renamed, or private without a token);
- ``HubError`` caused by an access refusal (gated, 403): ``is_access_denied(exc)`` says so;
- ``HubError`` otherwise: the poll failed (after retries) and is recorded as failed, never as a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from monitor.hub._classify import ChangeKinds
from monitor.hub._manifest import Commit, Manifest

__all__ = ["DescribedSource", "RevisionFacts", "RevisionSource", "is_access_denied"]


@runtime_checkable
class RevisionSource(Protocol):
    """Where a watched repository's revisions are read from."""

    kind: str
    """``hf``, ``git`` or ``endpoint`` (stored as ``WatchedModel.source``)."""

    @property
    def requests(self) -> int:
        """Requests made so far (HTTP requests for the Hub, git commands for git); a poll records the delta."""
        ...

    def head(self, ref: str) -> str:
        """The commit sha ``ref`` (branch, tag or sha) points at now; the only call a quiet poll makes."""
        ...

    def commit(self, sha: str) -> Commit:
        """One commit's parents, title and date."""
        ...

    def commits_between(self, old: str | None, new: str) -> list[Commit]:
        """Commits reachable from ``new`` but not from ``old``, oldest first.

        When ``old`` is None, unknown, or not an ancestor of ``new`` (a rewritten history), the list
        is the whole history of ``new``; ``old`` is an ancestor exactly when it is a parent of some
        commit in the list.
        """
        ...

    def tags(self) -> Mapping[str, str]:
        """Tag name to the commit sha it points at (annotated tags peeled)."""
        ...

    def manifest(self, sha: str) -> Manifest:
        """Every file of the revision with its size, blob id and LFS sha256."""
        ...

    def read_small_file(self, sha: str, path: str) -> bytes | None:
        """The content of a small file at ``sha`` (None when the revision has no such file)."""
        ...


@dataclass(frozen=True)
class RevisionFacts:
    """What a source that classifies its own revisions says about one: the change and what to store."""

    change: ChangeKinds
    fingerprints: dict[str, Any]
    manifest: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class DescribedSource(RevisionSource, Protocol):
    """A source whose revisions are not file trees (an endpoint's behavioural fingerprints).

    The poll records its revisions like commits (same ``Poll``, ``Revision`` and ``ChangeEvent`` rows,
    same failure counting and alerts) but takes the change, fingerprints and stored manifest from
    ``describe`` instead of classifying file manifests.
    """

    def describe(self, sha: str) -> RevisionFacts:
        """The facts of revision ``sha``, which ``head`` just returned."""
        ...


def is_access_denied(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is an access refusal: a gated repository, 403, permission denied."""
    from huggingface_hub.errors import DisabledRepoError, GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, GatedRepoError | PermissionError):
            return True
        if (
            isinstance(current, HfHubHTTPError)
            and not isinstance(current, RepositoryNotFoundError | DisabledRepoError)
            and current.response is not None
            and current.response.status_code == 403
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
