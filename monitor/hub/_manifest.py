"""Manifests (which files a revision has, by content), commits, file categories and fingerprints.

A manifest is what a revision *is* for the monitor: every file's path, size, git blob id and, for files
stored with Git LFS, the sha256 of the real content. Two revisions with equal manifests are the same
model, whatever their commit messages say. Fingerprints condense a manifest (plus the few small files
read at that revision) into the values worth comparing: the weights, the tokenizer, the chat template.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "CONTENT_FINGERPRINTS",
    "PICKLE_PATTERNS",
    "SMALL_FILES",
    "SNAPSHOT_ALLOW_PATTERNS",
    "Category",
    "Commit",
    "FileEntry",
    "Manifest",
    "category",
    "chat_template_of",
    "compute_fingerprints",
    "is_pickle",
    "parse_lfs_pointer",
    "snapshot_patterns",
    "tokenizer_config_rest",
    "wanted_in_snapshot",
]

Category = Literal[
    "weights", "tokenizer", "tokenizer_config", "chat_template", "generation_config", "config", "code", "docs", "other"
]

# Small files read at a revision (never weights): enough to tell a chat-template change from another
# tokenizer change, and a real generation-config or config change from a reformatting.
SMALL_FILES = ("tokenizer_config.json", "chat_template.jinja", "generation_config.json", "config.json")
SMALL_FILE_MAX_BYTES = 4 * 1024 * 1024

_WEIGHT_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".pkl",
    ".pickle",
    ".ckpt",
    ".gguf",
    ".h5",
    ".msgpack",
    ".onnx",
    ".safetensors.index.json",
    ".bin.index.json",
    ".pth.index.json",
)
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# Pickles a trainer leaves behind; no loader reads them for inference, so they are not weights.
_TRAINER_STATE = frozenset({"training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt"})
_TOKENIZER_FILES = frozenset(
    {
        "tokenizer.json",
        "tokenizer.model",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "vocab.txt",
        "merges.txt",
        "spiece.model",
        "sentencepiece.bpe.model",
    }
)
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", ".txt")
_DOC_NAMES = frozenset({".gitattributes", ".gitignore", "license", "notice", "copying", "citation.cff"})
_LFS_SPEC = b"version https://git-lfs.github.com/spec/v1"

# What the runner needs to load a model without executing anything from the repository.
SNAPSHOT_ALLOW_PATTERNS = ("*.safetensors", "*.json", "*.jinja", "*.model", "*.tiktoken", "*.txt")
PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.pickle", "*.ckpt")
_NEVER_PATTERNS = ("*.py", "*.pyc", "*.so", "*.sh")


def snapshot_patterns(*, allow_pickle: bool) -> tuple[list[str], list[str]]:
    """(allow, ignore) patterns of a pinned download: never code; pickle weights only when opted in."""
    allow = list(SNAPSHOT_ALLOW_PATTERNS) + (list(PICKLE_PATTERNS) if allow_pickle else [])
    ignore = list(_NEVER_PATTERNS) + ([] if allow_pickle else list(PICKLE_PATTERNS))
    return allow, ignore


def wanted_in_snapshot(path: str, *, allow_pickle: bool) -> bool:
    """Whether a pinned download takes ``path`` (the same rule for the Hub and for git)."""
    allow, ignore = snapshot_patterns(allow_pickle=allow_pickle)
    return any(fnmatch.fnmatch(path, p) for p in allow) and not any(fnmatch.fnmatch(path, p) for p in ignore)


@dataclass(frozen=True, order=True)
class FileEntry:
    """One file of a revision: where it is and what it contains (blob id; LFS sha256 when stored in LFS)."""

    path: str
    size: int
    blob_id: str
    lfs_sha256: str | None = None

    @property
    def digest(self) -> str:
        """The content identity: ``sha256:<hex>`` for LFS files (the real bytes), else ``git:<blob id>``."""
        return f"sha256:{self.lfs_sha256}" if self.lfs_sha256 else f"git:{self.blob_id}"


@dataclass(frozen=True)
class Manifest:
    """The files of one revision, sorted by path."""

    files: tuple[FileEntry, ...] = ()
    _by_path: dict[str, FileEntry] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.files))
        object.__setattr__(self, "files", ordered)
        object.__setattr__(self, "_by_path", {entry.path: entry for entry in ordered})

    @classmethod
    def of(cls, entries: Iterable[FileEntry]) -> Manifest:
        """Build a manifest from entries in any order."""
        return cls(tuple(entries))

    def get(self, path: str) -> FileEntry | None:
        """The entry at ``path``, or None when the revision has no such file."""
        return self._by_path.get(path)

    @property
    def paths(self) -> frozenset[str]:
        """Every path in the revision."""
        return frozenset(self._by_path)

    def to_json(self) -> dict[str, Any]:
        """The stored form (``Revision.manifest``)."""
        return {
            "files": [
                {"path": e.path, "size": e.size, "blob_id": e.blob_id, "lfs_sha256": e.lfs_sha256} for e in self.files
            ]
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Manifest:
        """Read the stored form back (an empty manifest for an empty or missing value)."""
        if not data:
            return cls()
        return cls.of(
            FileEntry(
                path=str(item["path"]),
                size=int(item.get("size") or 0),
                blob_id=str(item.get("blob_id") or ""),
                lfs_sha256=item.get("lfs_sha256"),
            )
            for item in data.get("files", [])
        )


@dataclass(frozen=True)
class Commit:
    """A commit as a source reports it: sha, parents (first parent first), title and date."""

    sha: str
    parents: tuple[str, ...] = ()
    title: str = ""
    date: dt.datetime | None = None


def category(path: str) -> Category:
    """What a file is for, judged by its path (the loaders of transformers, vLLM and llama.cpp decide by name)."""
    name = posixpath.basename(path).lower()
    if name.endswith(".py"):
        return "code"
    if name == "tokenizer_config.json":
        return "tokenizer_config"
    if name in ("chat_template.jinja", "chat_template.json") or (
        path.startswith("additional_chat_templates/") and name.endswith(".jinja")
    ):
        return "chat_template"
    if name == "generation_config.json":
        return "generation_config"
    if name.endswith(_WEIGHT_SUFFIXES) and name not in _TRAINER_STATE and not name.startswith("rng_state"):
        return "weights"
    if name in _TOKENIZER_FILES or name.endswith(".tiktoken") or (name.startswith("tokenizer") and "." in name):
        return "tokenizer"
    if name.endswith(("config.json", "configuration.json")):
        return "config"
    if name.endswith(_DOC_SUFFIXES) or name in _DOC_NAMES or name.startswith(("license", "readme")):
        return "docs"
    return "other"


def is_pickle(path: str) -> bool:
    """A weights file in a pickle format (loading it can execute code)."""
    name = posixpath.basename(path).lower()
    return category(path) == "weights" and name.endswith(_PICKLE_SUFFIXES)


def parse_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """The (sha256, size) a Git LFS pointer file names, or None when ``data`` is not a pointer."""
    if not data.startswith(_LFS_SPEC) or len(data) > 1024:
        return None
    oid: str | None = None
    size: int | None = None
    for line in data.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key == "oid" and value.startswith("sha256:"):
            oid = value.removeprefix("sha256:").strip()
        elif key == "size" and value.strip().isdigit():
            size = int(value.strip())
    if oid is None or len(oid) != 64 or size is None:
        return None
    return oid, size


def _json_or_none(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def chat_template_of(tokenizer_config: bytes | None, jinja: bytes | None) -> str | None:
    """The effective chat template(s) as one canonical string, or None when the revision has none.

    transformers reads ``chat_template.jinja`` when present, else the ``chat_template`` field of
    tokenizer_config.json (a string, or a list of named templates); both are part of the answer.
    """
    parts: dict[str, Any] = {}
    config = _json_or_none(tokenizer_config)
    if isinstance(config, dict) and config.get("chat_template") is not None:
        parts["tokenizer_config"] = config["chat_template"]
    if jinja is not None:
        parts["jinja"] = jinja.decode("utf-8", "replace")
    if not parts:
        return None
    return json.dumps(parts, sort_keys=True, ensure_ascii=False)


def tokenizer_config_rest(tokenizer_config: bytes | None) -> str | None:
    """tokenizer_config.json without its chat template, canonical (None when absent or unreadable)."""
    config = _json_or_none(tokenizer_config)
    if not isinstance(config, dict):
        return None
    rest = {key: value for key, value in config.items() if key != "chat_template"}
    return json.dumps(rest, sort_keys=True, ensure_ascii=False)


# Fingerprints computed from file contents, and the files each one needs.
CONTENT_FINGERPRINTS: dict[str, tuple[str, ...]] = {
    "chat_template": ("tokenizer_config.json", "chat_template.jinja"),
    "tokenizer_config": ("tokenizer_config.json",),
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _combined(entries: Iterable[FileEntry]) -> str | None:
    lines = [f"{entry.path}\t{entry.digest}" for entry in sorted(entries)]
    return _sha256("\n".join(lines)) if lines else None


def compute_fingerprints(manifest: Manifest, files: Mapping[str, bytes | None] | None = None) -> dict[str, Any]:
    """Condense a revision into comparable values (stored as ``Revision.fingerprints``).

    ``weights`` is one sha256 over every weight file's path and content digest (LFS sha256 where the
    file is in LFS), ``weight_files`` the per-file digests; ``tokenizer`` covers the tokenizer files
    but tokenizer_config.json, whose content is split into ``chat_template`` (the effective template)
    and ``tokenizer_config`` (the rest). Those two need the files' contents and are left out when a
    file was present but not read, so two revisions compare without downloading anything again.
    """
    files = files or {}
    by_category: dict[str, list[FileEntry]] = {}
    for entry in manifest.files:
        by_category.setdefault(category(entry.path), []).append(entry)
    weights = by_category.get("weights", [])
    fingerprints: dict[str, Any] = {
        "weights": _combined(weights),
        "weight_files": {entry.path: entry.digest for entry in weights},
        "tokenizer": _combined(by_category.get("tokenizer", [])),
        "generation_config": _digest_of(manifest, "generation_config.json"),
        "config": _digest_of(manifest, "config.json"),
        "remote_code": {entry.path: entry.digest for entry in by_category.get("code", [])},
        "pickle_files": sorted(entry.path for entry in weights if is_pickle(entry.path)),
    }
    # Content fingerprints need the files; each is left out when one of its files was present but not read.
    for key, paths in CONTENT_FINGERPRINTS.items():
        present = [path for path in paths if manifest.get(path) is not None]
        if not all(path in files for path in present):
            continue
        if key == "chat_template":
            value = chat_template_of(files.get("tokenizer_config.json"), files.get("chat_template.jinja"))
        else:
            value = tokenizer_config_rest(files.get("tokenizer_config.json"))
        fingerprints[key] = _sha256(value) if value is not None else None
    return fingerprints


def _digest_of(manifest: Manifest, path: str) -> str | None:
    entry = manifest.get(path)
    return entry.digest if entry is not None else None
