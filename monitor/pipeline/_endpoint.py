"""Endpoint models as a revision source: a served model's behavioural fingerprint is its head.

An OpenAI-compatible endpoint has no commits. ``EndpointSource`` fingerprints it (greedy answers and
logprobs to a few fixed prompts) and reports the fingerprint's content hash as the head, so the poll
records it like any commit (``Poll``, ``Revision``, ``ChangeEvent``, failure counting, ``poll.failed``
and ``hub.endpoint_changed`` alerts: one path for Hub, git and endpoint models), and runs of the
model's suites attach to that head like runs of a Hub revision.

The head is compared with the fingerprint of the current head revision, not the last check, so a
slow slide that never exceeds the tolerance in one step still shows once it adds up. A suspected
change is confirmed by a second fingerprint before it is believed (a batched GPU server can flip a
near-tie). A change is kinds ``["endpoint_changed"]``, always silent (an endpoint never announces a
redeploy); a fingerprint taken with another probe set is a new baseline (``fingerprint_rebaselined``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from monitor.config import WatchedModelConfig
from monitor.db import Database, Revision, WatchedModel
from monitor.engines import (
    FINGERPRINT_PROMPTS,
    EngineSpec,
    Fingerprint,
    FingerprintDiff,
    OpenAIEngine,
    build_engine,
    compare_fingerprints,
    take_fingerprint,
)
from monitor.errors import ComparisonError, ConfigError, EngineError
from monitor.hub import ChangeKinds, Commit, Manifest, RevisionFacts

__all__ = ["EndpointSource", "endpoint_spec"]


def endpoint_spec(config: WatchedModelConfig) -> EngineSpec:
    """The engine spec of an endpoint model from its TOML entry (``engine.kind = "openai"``, base_url set)."""
    if config.engine.kind != "openai":
        raise ConfigError(
            f"model {config.repo!r} has source = 'endpoint': set engine.kind = 'openai' (not {config.engine.kind!r})"
        )
    if not config.engine.options.get("base_url"):
        raise ConfigError(
            f"model {config.repo!r} has source = 'endpoint': set engine.options.base_url (e.g. http://host:8000/v1)"
        )
    return EngineSpec(kind="openai", model=config.repo, revision=None, options=dict(config.engine.options))


class EndpointSource:
    """A ``DescribedSource`` over one endpoint; ``head`` takes the fingerprint (use it for one poll)."""

    kind = "endpoint"

    def __init__(
        self,
        spec: EngineSpec,
        *,
        previous: Fingerprint | None = None,
        previous_sha: str | None = None,
        prompts: Sequence[tuple[str, str]] = FINGERPRINT_PROMPTS,
        max_tokens: int = 24,
        logprob_tolerance: float = 0.1,
        confirm: bool = True,
        engine: OpenAIEngine | None = None,
    ) -> None:
        """``previous`` is the head revision's fingerprint (None: a first sighting); ``engine`` may be reused."""
        if spec.kind != "openai":
            raise ConfigError(f"an endpoint is checked with the openai engine, not {spec.kind!r}")
        self.spec = spec
        self.previous = previous
        self.previous_sha = previous_sha
        self.prompts = tuple(prompts)
        self.max_tokens = max_tokens
        self.logprob_tolerance = logprob_tolerance
        self.confirm = confirm
        self._engine = engine
        self._own_engine = engine is None
        self._requests = 0
        self._facts: dict[str, RevisionFacts] = {}

    @classmethod
    def for_model(cls, db: Database, model_id: int, config: WatchedModelConfig, **options: Any) -> EndpointSource:
        """The source of a watched endpoint model, compared with its current head's fingerprint."""
        with db.session() as session:
            model = session.get(WatchedModel, model_id)
            head = None
            if model is not None and model.head_sha is not None:
                head = session.scalar(
                    sa.select(Revision).where(Revision.model_id == model.id, Revision.sha == model.head_sha)
                )
            previous = _stored_fingerprint(head.fingerprints if head is not None else None)
            previous_sha = head.sha if head is not None else None
        return cls(endpoint_spec(config), previous=previous, previous_sha=previous_sha, **options)

    @property
    def requests(self) -> int:
        """Chat requests made (one per fingerprint prompt, twice when a change is confirmed)."""
        return self._requests

    def close(self) -> None:
        """Close the engine this source opened."""
        if self._own_engine and self._engine is not None:
            self._engine.close()
            self._engine = None

    def head(self, ref: str) -> str:
        """The fingerprint's content hash, or the previous head's when the model did not change."""
        fingerprint = self._fingerprint()
        previous, previous_sha = self.previous, self.previous_sha
        served = fingerprint.served_model
        if previous is None or previous_sha is None:
            return self._remember(fingerprint, ("first_seen",), None, f"first fingerprint of {served}")
        diff = compare_fingerprints(previous, fingerprint, logprob_tolerance=self.logprob_tolerance)
        if diff.changed and self.confirm:
            fingerprint = self._fingerprint()
            diff = compare_fingerprints(previous, fingerprint, logprob_tolerance=self.logprob_tolerance)
        if not diff.comparable:
            title = f"new fingerprint baseline for {served} ({diff.reason})"
            return self._remember(fingerprint, ("fingerprint_rebaselined",), diff, title)
        if diff.changed and fingerprint.content_hash() != previous_sha:
            return self._remember(
                fingerprint, ("endpoint_changed",), diff, f"the model served as {served} changed: {diff.reason}"
            )
        return previous_sha

    def describe(self, sha: str) -> RevisionFacts:
        """The facts ``head`` found for ``sha``."""
        return self._facts[sha]

    def commit(self, sha: str) -> Commit:
        """A fingerprint "commit": its parent is the previous head, its title says what happened."""
        facts = self._facts.get(sha)
        title = str(facts.details.get("title", "")) if facts is not None else ""
        parents = (self.previous_sha,) if self.previous_sha and self.previous_sha != sha else ()
        return Commit(sha=sha, parents=parents, title=title, date=None)

    def commits_between(self, old: str | None, new: str) -> list[Commit]:
        """One step: from the previous head straight to the new fingerprint."""
        return [self.commit(new)]

    def tags(self) -> Mapping[str, str]:
        """An endpoint has no tags."""
        return {}

    def manifest(self, sha: str) -> Manifest:
        """An endpoint has no files: the fingerprint is the revision."""
        return Manifest()

    def read_small_file(self, sha: str, path: str) -> bytes | None:
        """An endpoint has no files."""
        return None

    # -- helpers

    def _fingerprint(self) -> Fingerprint:
        if self._engine is None:
            built = build_engine(self.spec)
            if not isinstance(built, OpenAIEngine):  # pragma: no cover - build_engine maps openai to OpenAIEngine
                raise EngineError(f"engine kind {self.spec.kind!r} cannot take a fingerprint")
            self._engine = built
        self._requests += len(self.prompts)
        return take_fingerprint(self._engine, prompts=self.prompts, max_tokens=self.max_tokens)

    def _remember(
        self, fingerprint: Fingerprint, kinds: tuple[str, ...], diff: FingerprintDiff | None, title: str
    ) -> str:
        sha = fingerprint.content_hash()
        previous = self.previous
        options = self.spec.options
        details: dict[str, Any] = {
            "title": title,
            "diff": diff.to_dict() if diff is not None else None,
            "system_fingerprint": {
                "before": previous.system_fingerprint if previous else None,
                "after": fingerprint.system_fingerprint,
            },
            "examples": _examples(diff, previous, fingerprint),
        }
        manifest = {
            "files": [],  # an endpoint has no files: the fingerprint is the revision
            "source": "endpoint",
            "base_url": options.get("base_url"),
            "served_model": options.get("served_model") or self.spec.model,
            "api_key_env": options.get("api_key_env", "OPENAI_API_KEY"),  # the variable's name, never a key
            "system_fingerprint": fingerprint.system_fingerprint,
            "engine_version": self._engine.version if self._engine is not None else None,
            "prompts": len(fingerprint.entries),
            "max_tokens": fingerprint.max_tokens,
        }
        change = ChangeKinds(kinds=kinds, silent=kinds == ("endpoint_changed",))
        self._facts[sha] = RevisionFacts(change, fingerprint.to_dict(), manifest, details)
        return sha


def _stored_fingerprint(fingerprints: dict[str, Any] | None) -> Fingerprint | None:
    if not fingerprints or not fingerprints.get("entries"):
        return None
    try:
        return Fingerprint.from_dict(fingerprints)
    except ComparisonError:
        return None  # unreadable: start a new baseline rather than fail every check


def _examples(
    diff: FingerprintDiff | None, previous: Fingerprint | None, fingerprint: Fingerprint, limit: int = 3
) -> list[dict[str, str]]:
    """Before/after answers of the first prompts whose answer changed: the evidence a reviewer reads."""
    if diff is None or previous is None:
        return []
    before = {e.prompt_id: e.text for e in previous.entries}
    after = {e.prompt_id: e.text for e in fingerprint.entries}
    return [{"prompt_id": p, "before": before[p], "after": after[p]} for p in diff.text_changed[:limit]]
