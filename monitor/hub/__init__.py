"""Revision watching: sources (the Hugging Face Hub, git), manifests, fingerprints and change kinds.

The hub never loads a model. ``poll_model`` (in ``monitor.pipeline``) drives a ``RevisionSource`` and
stores what it finds; everything here is either a source or a pure rule.

The names are imported on first use (PEP 562): a poll of a Hub repository needs the Hub source and the
change rules, not the git source, the webhook server or the snapshot downloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor._lazy import lazy_exports

if TYPE_CHECKING:
    from monitor.hub._classify import (
        ALL_KINDS,
        BEHAVIOUR_KINDS,
        SECURITY_KINDS,
        STATUS_KINDS,
        ChangeKinds,
        classify_change,
        version_signal,
    )
    from monitor.hub._credentials import (
        credential_store,
        forget_credentials,
        public_location,
        scrub_stored_credentials,
        store_credentials,
    )
    from monitor.hub._git import GitSource, checkout_snapshot, is_remote_location
    from monitor.hub._hf import HfSource, download_snapshot, is_commit_sha
    from monitor.hub._manifest import (
        CONTENT_FINGERPRINTS,
        PICKLE_PATTERNS,
        SMALL_FILES,
        SNAPSHOT_ALLOW_PATTERNS,
        Category,
        Commit,
        FileEntry,
        Manifest,
        category,
        chat_template_of,
        compute_fingerprints,
        is_pickle,
        parse_lfs_pointer,
        snapshot_patterns,
        wanted_in_snapshot,
    )
    from monitor.hub._protocol import DescribedSource, RevisionFacts, RevisionSource, is_access_denied
    from monitor.hub._sources import open_source
    from monitor.hub._webhook import WebhookApp, make_webhook_handler, make_webhook_server

# Each public name and the module that defines it.
_EXPORTS = {
    "ALL_KINDS": "monitor.hub._classify",
    "BEHAVIOUR_KINDS": "monitor.hub._classify",
    "CONTENT_FINGERPRINTS": "monitor.hub._manifest",
    "Category": "monitor.hub._manifest",
    "ChangeKinds": "monitor.hub._classify",
    "Commit": "monitor.hub._manifest",
    "DescribedSource": "monitor.hub._protocol",
    "FileEntry": "monitor.hub._manifest",
    "GitSource": "monitor.hub._git",
    "HfSource": "monitor.hub._hf",
    "Manifest": "monitor.hub._manifest",
    "PICKLE_PATTERNS": "monitor.hub._manifest",
    "RevisionFacts": "monitor.hub._protocol",
    "RevisionSource": "monitor.hub._protocol",
    "SECURITY_KINDS": "monitor.hub._classify",
    "SMALL_FILES": "monitor.hub._manifest",
    "SNAPSHOT_ALLOW_PATTERNS": "monitor.hub._manifest",
    "STATUS_KINDS": "monitor.hub._classify",
    "WebhookApp": "monitor.hub._webhook",
    "category": "monitor.hub._manifest",
    "chat_template_of": "monitor.hub._manifest",
    "checkout_snapshot": "monitor.hub._git",
    "classify_change": "monitor.hub._classify",
    "compute_fingerprints": "monitor.hub._manifest",
    "credential_store": "monitor.hub._credentials",
    "download_snapshot": "monitor.hub._hf",
    "forget_credentials": "monitor.hub._credentials",
    "is_access_denied": "monitor.hub._protocol",
    "is_commit_sha": "monitor.hub._hf",
    "is_pickle": "monitor.hub._manifest",
    "is_remote_location": "monitor.hub._git",
    "make_webhook_handler": "monitor.hub._webhook",
    "make_webhook_server": "monitor.hub._webhook",
    "open_source": "monitor.hub._sources",
    "parse_lfs_pointer": "monitor.hub._manifest",
    "public_location": "monitor.hub._credentials",
    "scrub_stored_credentials": "monitor.hub._credentials",
    "snapshot_patterns": "monitor.hub._manifest",
    "store_credentials": "monitor.hub._credentials",
    "version_signal": "monitor.hub._classify",
    "wanted_in_snapshot": "monitor.hub._manifest",
}

__all__ = [
    "ALL_KINDS",
    "BEHAVIOUR_KINDS",
    "CONTENT_FINGERPRINTS",
    "PICKLE_PATTERNS",
    "SECURITY_KINDS",
    "SMALL_FILES",
    "SNAPSHOT_ALLOW_PATTERNS",
    "STATUS_KINDS",
    "Category",
    "ChangeKinds",
    "Commit",
    "DescribedSource",
    "FileEntry",
    "GitSource",
    "HfSource",
    "Manifest",
    "RevisionFacts",
    "RevisionSource",
    "WebhookApp",
    "category",
    "chat_template_of",
    "checkout_snapshot",
    "classify_change",
    "compute_fingerprints",
    "credential_store",
    "download_snapshot",
    "forget_credentials",
    "is_access_denied",
    "is_commit_sha",
    "is_pickle",
    "is_remote_location",
    "make_webhook_handler",
    "make_webhook_server",
    "open_source",
    "parse_lfs_pointer",
    "public_location",
    "scrub_stored_credentials",
    "snapshot_patterns",
    "store_credentials",
    "version_signal",
    "wanted_in_snapshot",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
