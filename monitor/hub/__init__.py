"""Revision watching: sources (the Hugging Face Hub, git), manifests, fingerprints and change kinds.

The hub never loads a model. ``poll_model`` (in ``monitor.pipeline``) drives a ``RevisionSource`` and
stores what it finds; everything here is either a source or a pure rule.
"""

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
