"""The pure rules: file categories, LFS pointers, fingerprints, change kinds and silence."""

from __future__ import annotations

import hashlib
import json

import pytest

from monitor.hub import (
    ALL_KINDS,
    FileEntry,
    Manifest,
    category,
    chat_template_of,
    classify_change,
    compute_fingerprints,
    parse_lfs_pointer,
    version_signal,
    wanted_in_snapshot,
)
from tests.hub._hub_server import git_blob_id, lfs_pointer
from tests.hub._scenarios import TEMPLATE_R1_FEB, TEMPLATE_R1_JAN, tokenizer_config


def entry(path: str, data: bytes, *, lfs: bool = False) -> FileEntry:
    if lfs:
        return FileEntry(path, len(data), git_blob_id(lfs_pointer(data)), hashlib.sha256(data).hexdigest())
    return FileEntry(path, len(data), git_blob_id(data))


BASE = {
    "README.md": b"# model\n",
    "config.json": b'{"hidden_size": 64}',
    "generation_config.json": b'{"temperature": 0.6}',
    "tokenizer.json": b'{"model": {}}',
    "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_JAN),
}
WEIGHTS = b"weights-v1" * 10


def manifest(files: dict[str, bytes], weights: bytes | None = WEIGHTS, **lfs_files: bytes) -> Manifest:
    entries = [entry(path, data) for path, data in files.items()]
    if weights is not None:
        entries.append(entry("model.safetensors", weights, lfs=True))
    entries += [entry(path.replace("__", "."), data, lfs=True) for path, data in lfs_files.items()]
    return Manifest.of(entries)


def change(old_files: dict[str, bytes], new_files: dict[str, bytes], **kwargs: object):  # type: ignore[no-untyped-def]
    old_weights = kwargs.pop("old_weights", WEIGHTS)
    new_weights = kwargs.pop("new_weights", WEIGHTS)
    return classify_change(
        manifest(old_files, old_weights),  # type: ignore[arg-type]
        manifest(new_files, new_weights),  # type: ignore[arg-type]
        old_files,
        new_files,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("model-00001-of-00002.safetensors", "weights"),
        ("model.safetensors.index.json", "weights"),
        ("pytorch_model.bin", "weights"),
        ("training_args.bin", "other"),
        ("tokenizer.json", "tokenizer"),
        ("tokenizer.model", "tokenizer"),
        ("merges.txt", "tokenizer"),
        ("qwen.tiktoken", "tokenizer"),
        ("tokenizer_config.json", "tokenizer_config"),
        ("chat_template.jinja", "chat_template"),
        ("additional_chat_templates/tool_use.jinja", "chat_template"),
        ("generation_config.json", "generation_config"),
        ("config.json", "config"),
        ("preprocessor_config.json", "config"),
        ("modeling_deepseek.py", "code"),
        ("README.md", "docs"),
        ("LICENSE", "docs"),
        ("figures/benchmark.jpg", "docs"),
        (".gitattributes", "docs"),
        ("eval_results.json", "other"),
    ],
)
def test_categories(path: str, expected: str) -> None:
    assert category(path) == expected


def test_lfs_pointer_parsing() -> None:
    data = b"x" * 1000
    assert parse_lfs_pointer(lfs_pointer(data)) == (hashlib.sha256(data).hexdigest(), 1000)
    assert parse_lfs_pointer(b'{"not": "a pointer"}') is None
    assert parse_lfs_pointer(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n") is None


def test_manifest_round_trips_through_its_stored_form() -> None:
    m = manifest(BASE, extra__bin=b"pickle")
    assert Manifest.from_json(json.loads(json.dumps(m.to_json()))) == m
    assert m.get("model.safetensors") is not None and m.get("model.safetensors").lfs_sha256  # type: ignore[union-attr]


def test_first_seen_is_one_kind_and_never_silent() -> None:
    result = classify_change(None, manifest(BASE), None, BASE)
    assert result.kinds == ("first_seen",)
    assert not result.silent


def test_readme_only_is_docs_only_and_never_silent() -> None:
    result = change(BASE, {**BASE, "README.md": b"# model\n\nNew benchmark table.\n"})
    assert result.kinds == ("docs_only",)
    assert not result.silent
    assert result.modified == ("README.md",)


def test_silent_weights_change() -> None:
    result = change(BASE, BASE, new_weights=b"weights-v2" * 10, title="Upload model.safetensors")
    assert result.kinds == ("weights_changed",)
    assert result.silent
    assert result.version_signal is None


def test_feb_2025_template_change_is_chat_template_only() -> None:
    new = {**BASE, "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)}
    result = change(BASE, new, title="Update tokenizer_config.json")
    assert result.kinds == ("chat_template_changed",)
    assert result.silent


def test_template_and_tokenizer_settings_changed_together() -> None:
    new = {**BASE, "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB, model_max_length=131072)}
    assert change(BASE, new).kinds == ("tokenizer_changed", "chat_template_changed")


def test_tokenizer_config_without_contents_falls_back_to_tokenizer_changed() -> None:
    new = {**BASE, "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)}
    result = classify_change(manifest(BASE), manifest(new))
    assert result.kinds == ("tokenizer_changed",)
    assert result.notes["unread"] == ["tokenizer_config.json"]


def test_chat_template_jinja_file() -> None:
    new = {**BASE, "chat_template.jinja": TEMPLATE_R1_FEB.encode()}
    assert change(BASE, new).kinds == ("chat_template_changed",)
    assert chat_template_of(None, b"x") != chat_template_of(None, b"y")


def test_generation_config_and_config() -> None:
    gen = {**BASE, "generation_config.json": b'{"temperature": 0.7}'}
    assert change(BASE, gen).kinds == ("generation_config_changed",)
    cfg = {**BASE, "config.json": b'{"hidden_size": 128}'}
    assert change(BASE, cfg).kinds == ("config_changed",)


def test_reformatted_json_config_is_not_a_config_change() -> None:
    reformatted = {**BASE, "config.json": b'{\n  "hidden_size": 64\n}\n'}
    result = change(BASE, reformatted)
    assert result.kinds == ()
    assert not result.silent


def test_tokenizer_json_only() -> None:
    new = {**BASE, "tokenizer.json": b'{"model": {"vocab": {"b": 1}}}'}
    assert change(BASE, new).kinds == ("tokenizer_changed",)


def test_remote_code_and_pickle_weights_are_security_kinds() -> None:
    old = manifest(BASE)
    new = Manifest.of(
        [*old.files, entry("modeling_evil.py", b"import os\n"), entry("pytorch_model.bin", b"pickle!", lfs=True)]
    )
    result = classify_change(old, new, BASE, BASE)
    assert result.kinds == ("weights_changed", "remote_code_changed", "pickle_weights_added")
    assert result.security


def test_removing_code_is_not_a_security_event() -> None:
    old = Manifest.of([*manifest(BASE).files, entry("modeling_x.py", b"pass\n")])
    result = classify_change(old, manifest(BASE), BASE, BASE)
    assert "remote_code_changed" not in result
    assert result.removed == ("modeling_x.py",)


def test_a_tag_or_a_version_in_the_title_is_a_version_signal() -> None:
    tagged = change(BASE, BASE, new_weights=b"w2" * 10, tags=["v1.1"])
    assert tagged.kinds == ("weights_changed",) and not tagged.silent
    assert tagged.version_signal == "tag v1.1"
    titled = change(BASE, BASE, new_weights=b"w2" * 10, title="Release v1.2: better math")
    assert not titled.silent and titled.version_signal == "title Release v1.2"


@pytest.mark.parametrize(
    ("title", "signal"),
    [
        ("Update to V3.1-Terminus", "title V3.1"),
        ("version 2 weights", "title version 2"),
        ("Upload Qwen2.5 weights", None),
        ("fix typo", None),
        ("Upload folder using huggingface_hub", None),
        ("dev1.2 fixes", None),
    ],
)
def test_version_in_title(title: str, signal: str | None) -> None:
    assert version_signal(title) == signal


def test_history_rewritten_with_identical_content() -> None:
    result = classify_change(manifest(BASE), manifest(BASE), BASE, BASE, history_rewritten=True)
    assert result.kinds == ("history_rewritten",)
    assert not result.silent


def test_kinds_come_in_canonical_order() -> None:
    new = {**BASE, "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB), "config.json": b'{"h": 1}'}
    result = change(BASE, new, new_weights=b"z" * 10, history_rewritten=True)
    assert list(result.kinds) == [kind for kind in ALL_KINDS if kind in result.kinds]
    assert result.kinds[0] == "history_rewritten"


def test_fingerprints_separate_weights_tokenizer_and_template() -> None:
    before = compute_fingerprints(manifest(BASE), BASE)
    readme = {**BASE, "README.md": b"new"}
    assert compute_fingerprints(manifest(readme), readme) == before
    template = {**BASE, "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB)}
    after = compute_fingerprints(manifest(template), template)
    assert after["chat_template"] != before["chat_template"]
    assert after["tokenizer_config"] == before["tokenizer_config"]
    assert after["weights"] == before["weights"] and after["tokenizer"] == before["tokenizer"]
    assert before["weight_files"] == {"model.safetensors": "sha256:" + hashlib.sha256(WEIGHTS).hexdigest()}
    reweighted = compute_fingerprints(manifest(BASE, b"other"), BASE)
    assert reweighted["weights"] != before["weights"]
    unread = compute_fingerprints(manifest(BASE))
    assert "chat_template" not in unread and "tokenizer_config" not in unread


def test_snapshot_selection_never_takes_code_and_pickles_only_when_asked() -> None:
    assert wanted_in_snapshot("model.safetensors", allow_pickle=False)
    assert wanted_in_snapshot("tokenizer.json", allow_pickle=False)
    assert wanted_in_snapshot("chat_template.jinja", allow_pickle=False)
    assert not wanted_in_snapshot("modeling_deepseek.py", allow_pickle=True)
    assert not wanted_in_snapshot("pytorch_model.bin", allow_pickle=False)
    assert wanted_in_snapshot("pytorch_model.bin", allow_pickle=True)
    assert not wanted_in_snapshot("README.md", allow_pickle=False)


def test_changed_small_files_keep_both_sides_text_for_the_diff() -> None:
    new = {
        **BASE,
        "tokenizer_config.json": tokenizer_config(TEMPLATE_R1_FEB),
        "chat_template.jinja": TEMPLATE_R1_FEB.encode(),
    }
    result = change(BASE, new, new_weights=b"weights-v2" * 10)
    contents = result.details()["file_contents"]
    # Only the changed small files; the weights and README are never stored.
    assert set(contents) == {"chat_template.jinja", "tokenizer_config.json"}
    assert contents["tokenizer_config.json"] == {
        "before": tokenizer_config(TEMPLATE_R1_JAN).decode(),
        "after": tokenizer_config(TEMPLATE_R1_FEB).decode(),
    }
    assert contents["chat_template.jinja"] == {"before": "", "after": TEMPLATE_R1_FEB}, "added: empty before"


def test_a_small_file_too_large_or_unread_is_named_not_stored() -> None:
    from monitor.hub._classify import STORED_TEXT_MAX_BYTES

    huge = b'{"temperature": 0.7, "pad": "' + b"x" * STORED_TEXT_MAX_BYTES + b'"}'
    result = change(BASE, {**BASE, "generation_config.json": huge})
    stored = result.details()["file_contents"]["generation_config.json"]
    assert stored["before"] == BASE["generation_config.json"].decode()
    assert stored["after"] is None and "larger than the 256 KiB kept" in str(stored["after_note"])
    unread = classify_change(manifest(BASE), manifest({**BASE, "config.json": b'{"hidden_size": 65}'}))
    assert "file_contents" not in unread.details(), "no side read: nothing to show"
