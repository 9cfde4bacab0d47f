"""The Hugging Face Hub as a revision source, through ``huggingface_hub`` (honours HF_ENDPOINT and HF_TOKEN).

Calls (each one HTTP request unless said otherwise):

- ``head``: ``model_info(revision=ref, expand=["sha"])``, the smallest answer that resolves a ref;
  a quiet poll makes this call and nothing else;
- ``commits_between``: the ``/commits/{rev}`` pages ``list_repo_commits`` reads, fetched lazily so a poll
  stops at the last seen head (requests proportional to the new commits, not to the history);
- ``tags``: ``list_repo_refs``; ``manifest``: ``model_info(revision=sha, files_metadata=True)``;
- ``read_small_file``: ``hf_hub_download`` at the sha (HEAD + GET, nothing when already cached).

Timeouts, 429 (honouring Retry-After) and 5xx are retried with exponential backoff (tenacity); then
the call raises ``HubError``. The token is read by ``huggingface_hub`` from the environment and never
passes through this module's messages or logs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import functools
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx2
from huggingface_hub import HfApi, constants
from huggingface_hub.errors import (
    DisabledRepoError,
    DryRunError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status, validate_repo_id
from tenacity import RetryCallState, Retrying, retry_if_exception

from monitor.errors import HubError, ModelNotFoundError
from monitor.hub._disk import ensure_free_space
from monitor.hub._manifest import Commit, FileEntry, Manifest, snapshot_patterns

if TYPE_CHECKING:
    from huggingface_hub import DryRunFileInfo

__all__ = ["HfSource", "download_snapshot", "is_commit_sha"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

_SHA = re.compile(r"^[0-9a-f]{40}$")

_COUNTER: ContextVar[list[int] | None] = ContextVar("drift_monitor_hub_requests", default=None)


def _count_request(request: httpx2.Request) -> None:
    counter = _COUNTER.get()
    if counter is not None:
        counter[0] += 1


def _install_counter() -> None:
    """Count requests on huggingface_hub's shared client (it may be recreated, so check every time)."""
    hooks = get_session().event_hooks["request"]
    if _count_request not in hooks:
        hooks.append(_count_request)


def is_commit_sha(value: str) -> bool:
    """A full 40-hex commit sha (the only revision a download may be pinned to)."""
    return bool(_SHA.match(value))


def _retry_after(exc: BaseException | None) -> float | None:
    """Seconds a 429/503 answer asked us to wait (Retry-After as seconds or as an HTTP date)."""
    if not isinstance(exc, HfHubHTTPError) or exc.response is None:
        return None
    value = exc.response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _transient(exc: BaseException) -> bool:
    """Worth retrying: timeouts, dropped connections, 408, 429 and 5xx answers."""
    if isinstance(exc, httpx2.TimeoutException | httpx2.NetworkError | httpx2.RemoteProtocolError):
        return True
    if isinstance(exc, RepositoryNotFoundError | RevisionNotFoundError | RemoteEntryNotFoundError):
        return False
    if isinstance(exc, HfHubHTTPError):
        status = _status(exc)
        return status is not None and (status in (408, 429) or status >= 500)
    return False


class HfSource:
    """Revisions of one model repository on the Hub (or on a mirror that speaks the Hub API)."""

    kind = "hf"

    def __init__(
        self,
        repo_id: str,
        *,
        endpoint: str | None = None,
        cache_dir: Path | None = None,
        timeout_s: float = 30.0,
        attempts: int = 4,
        retry_wait_s: float = 1.0,
        max_wait_s: float = 30.0,
        max_retry_after_s: float = 120.0,
    ) -> None:
        try:
            validate_repo_id(repo_id)
        except HFValidationError:
            raise HubError(f"{repo_id!r} is not a Hub repository id (expected owner/name)") from None
        if "/" not in repo_id:
            raise HubError(f"{repo_id!r} is not a Hub repository id (expected owner/name)")
        self.repo_id = repo_id
        # HF_ENDPOINT is read now rather than at import, so a mirror set after start-up is honoured.
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
        self.cache_dir = cache_dir
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.retry_wait_s = retry_wait_s
        self.max_wait_s = max_wait_s
        self.max_retry_after_s = max_retry_after_s
        self._api = HfApi(endpoint=self.endpoint, library_name="drift-monitor")
        self._counter = [0]

    def __repr__(self) -> str:
        return f"HfSource({self.repo_id!r}, endpoint={self.endpoint!r})"

    @property
    def requests(self) -> int:
        """HTTP requests this source has made."""
        return self._counter[0]

    # -- the RevisionSource protocol -------------------------------------------------------------

    def head(self, ref: str) -> str:
        """Resolve ``ref`` with the smallest model_info answer (one request)."""
        info = self._call(
            f"revision {ref}",
            lambda: self._api.model_info(self.repo_id, revision=ref, expand=["sha"], timeout=self.timeout_s),
            revision=ref,
        )
        sha = getattr(info, "sha", None)
        if not isinstance(sha, str) or not is_commit_sha(sha):
            raise HubError(f"malformed answer from {self.endpoint} for {self.repo_id}@{ref}: no commit sha")
        return sha

    def commit(self, sha: str) -> Commit:
        """The commit itself, from the first page of its history (one request)."""
        for commit in self._history(sha, stop_at=None, limit=1):
            return commit
        raise HubError(f"malformed answer from {self.endpoint}: commit {sha} has no history")

    def commits_between(self, old: str | None, new: str) -> list[Commit]:
        """New commits oldest first; pages stop at ``old`` (the whole history when ``old`` is not in it)."""
        newest_first = list(self._history(new, stop_at=old))
        return list(reversed(newest_first))

    def tags(self) -> Mapping[str, str]:
        """Tags from list_repo_refs (one request)."""
        refs = self._call("refs", lambda: self._api.list_repo_refs(self.repo_id))
        return {tag.name: tag.target_commit for tag in refs.tags}

    def manifest(self, sha: str) -> Manifest:
        """Files with blob ids and LFS sha256 from model_info(files_metadata=True) (one request)."""
        info = self._call(
            f"files of {sha[:12]}",
            lambda: self._api.model_info(self.repo_id, revision=sha, files_metadata=True, timeout=self.timeout_s),
            revision=sha,
        )
        if info.siblings is None:
            raise HubError(f"malformed answer from {self.endpoint} for {self.repo_id}@{sha[:12]}: no file list")
        return Manifest.of(
            FileEntry(
                path=sibling.rfilename,
                size=int(sibling.size or (sibling.lfs.size if sibling.lfs else 0) or 0),
                blob_id=sibling.blob_id or "",
                lfs_sha256=sibling.lfs.sha256 if sibling.lfs else None,
            )
            for sibling in info.siblings
        )

    def read_small_file(self, sha: str, path: str) -> bytes | None:
        """Download one small file pinned to ``sha`` into the cache (nothing when it is there already)."""

        def download() -> bytes | None:
            try:
                local = self._api.hf_hub_download(
                    self.repo_id, path, revision=sha, cache_dir=self.cache_dir, etag_timeout=self.timeout_s
                )
            except RemoteEntryNotFoundError:
                return None
            return Path(str(local)).read_bytes()

        # hf_hub_download already retries its own HEAD on 5xx; one attempt here keeps the total bounded.
        return self._call(f"{path} at {sha[:12]}", download, revision=sha, attempts=1)

    # -- internals ---------------------------------------------------------------------------------

    def _history(self, rev: str, *, stop_at: str | None, limit: int | None = None) -> Iterator[Commit]:
        """Commits of ``rev`` newest first, page by page (Link headers), parents inferred from the order."""
        url: str | None = f"{self.endpoint}/api/models/{self.repo_id}/commits/{quote(rev, safe='')}"
        pending: dict[str, Any] | None = None
        yielded = 0
        while url is not None:
            page, url = self._call("commits", _bind(self._commits_page, url), revision=rev)
            for item in page:
                if pending is not None:
                    yield _commit(pending, parent=item["id"])
                    yielded += 1
                    if limit is not None and yielded >= limit:
                        return
                if item["id"] == stop_at:
                    return
                pending = item
        if pending is not None:
            yield _commit(pending, parent=None)

    def _commits_page(self, url: str) -> tuple[list[dict[str, Any]], str | None]:
        response = get_session().get(
            url, headers=build_hf_headers(library_name="drift-monitor"), timeout=self.timeout_s
        )
        hf_raise_for_status(response)
        page = response.json()
        if not isinstance(page, list) or not all(isinstance(item, dict) and "id" in item for item in page):
            raise TypeError("commit list is not a list of commits")
        next_url = response.links.get("next", {}).get("url")
        return page, next_url

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return retry_after
        return float(min(self.max_wait_s, self.retry_wait_s * 2 ** (state.attempt_number - 1)))

    def _stop(self, attempts: int) -> Callable[[RetryCallState], bool]:
        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= attempts:
                return True
            exc = state.outcome.exception() if state.outcome is not None else None
            retry_after = _retry_after(exc)
            # A server that asks for a long pause gets it from the next scheduled poll, not from this one.
            return retry_after is not None and retry_after > self.max_retry_after_s

        return stop

    def _call(self, what: str, fn: Callable[[], T], *, revision: str | None = None, attempts: int | None = None) -> T:
        """Run one client call with request counting, retries, and errors a user can act on."""
        _install_counter()
        token = _COUNTER.set(self._counter)
        retrying = Retrying(
            stop=self._stop(attempts or self.attempts),
            wait=self._wait,
            retry=retry_if_exception(_transient),
            reraise=True,
            before_sleep=lambda state: logger.info(
                "hub %s: %s failed (%s), retrying", self.repo_id, what, _describe(state.outcome)
            ),
        )
        try:
            with _translated(self.repo_id, self.endpoint, what, revision=revision):
                return retrying(fn)
        finally:
            _COUNTER.reset(token)


def _bind(fn: Callable[[str], T], arg: str) -> Callable[[], T]:
    return lambda: fn(arg)


def _describe(outcome: Any) -> str:
    exc = outcome.exception() if outcome is not None else None
    status = _status(exc) if exc is not None else None
    return f"HTTP {status}" if status is not None else type(exc).__name__


def _commit(item: Mapping[str, Any], *, parent: str | None) -> Commit:
    date = item.get("date")
    return Commit(
        sha=str(item["id"]),
        parents=(parent,) if parent else (),
        title=str(item.get("title") or ""),
        date=dt.datetime.fromisoformat(date.replace("Z", "+00:00")) if isinstance(date, str) else None,
    )


@contextlib.contextmanager
def _translated(repo_id: str, endpoint: str, what: str, *, revision: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub and transport errors into HubError / ModelNotFoundError with one clear line."""
    where = f"{repo_id} on {endpoint}"
    try:
        yield
    except GatedRepoError as exc:
        raise HubError(
            f"{where} is gated: accept its terms on the Hub and set HF_TOKEN to a token that has access"
        ) from exc
    except DisabledRepoError as exc:
        raise ModelNotFoundError(f"{where} is disabled by the Hub") from exc
    except RepositoryNotFoundError as exc:
        raise ModelNotFoundError(
            f"{where} not found (deleted, renamed, or private: set HF_TOKEN for private repositories)"
        ) from exc
    except RevisionNotFoundError as exc:
        raise HubError(f"revision {revision or '?'} of {where} not found (check the ref)") from exc
    except HfHubHTTPError as exc:
        status = _status(exc)
        if status == 401:
            raise HubError(f"{endpoint} refused the credentials for {repo_id}: check HF_TOKEN") from exc
        if status == 403:
            raise HubError(f"{where}: access denied (403); set HF_TOKEN to a token that has access") from exc
        if status == 429:
            wait = _retry_after(exc)
            after = f"; it asks to retry after {wait:.0f}s" if wait is not None else ""
            raise HubError(f"{endpoint} rate-limited {what} of {repo_id} (HTTP 429){after}") from exc
        raise HubError(f"{endpoint} answered HTTP {status} to {what} of {repo_id}") from exc
    except OfflineModeIsEnabled as exc:
        raise HubError("HF_HUB_OFFLINE is set: unset it (or set HF_HUB_OFFLINE=0) to poll the Hub") from exc
    except httpx2.TimeoutException as exc:
        raise HubError(f"{endpoint} timed out on {what} of {repo_id}") from exc
    except httpx2.TransportError as exc:
        raise HubError(f"cannot reach {endpoint} ({type(exc).__name__}: {exc})") from exc
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise HubError(f"malformed answer from {endpoint} to {what} of {repo_id}: {type(exc).__name__}") from exc


def download_snapshot(
    repo_id: str,
    sha: str,
    *,
    cache_dir: Path,
    allow_pickle: bool = False,
    endpoint: str | None = None,
) -> Path:
    """Download what the runner needs of one pinned revision (reusing the cache) and return its folder.

    Safetensors, JSON configs, tokenizer files and chat_template.jinja only; never ``*.py`` (the runner
    never sets trust_remote_code); pickle weights (``*.bin``, ``*.pt``, ...) only with ``allow_pickle``.
    A dry run first sums the sizes of the files not cached yet; a snapshot that does not fit on the
    cache's disk is refused before a byte is written.
    """
    from huggingface_hub import snapshot_download  # the download stack: not on the poll path

    if not is_commit_sha(sha):
        raise HubError(f"downloads are pinned to a full commit sha; got {sha!r} (poll the model first)")
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")
    allow, ignore = snapshot_patterns(allow_pickle=allow_pickle)
    with _translated(repo_id, endpoint, f"download of {sha[:12]}", revision=sha):
        # The dry run and the download must ask for exactly the same files: one set of arguments.
        download = functools.partial(
            snapshot_download,
            repo_id,
            revision=sha,
            cache_dir=str(cache_dir),
            allow_patterns=allow,
            ignore_patterns=ignore,
            endpoint=endpoint,
            library_name="drift-monitor",
        )
        plan: list[DryRunFileInfo]
        try:
            plan = download(dry_run=True)  # type: ignore[assignment]  # partial() drops the overloads
        except DryRunError:
            plan = []  # the Hub cannot be asked (offline, gated, down): the download below says why, or uses the cache
        needed = sum(item.file_size or 0 for item in plan if item.will_download)
        ensure_free_space(needed, cache_dir, what=f"the snapshot of {repo_id} at {sha[:12]}")
        folder = download()
    return Path(str(folder))
