"""Display helpers: changed files from a change event, comparable fingerprint cells."""

from __future__ import annotations

from dashboard import _common


def test_changed_files_reads_the_hub_details() -> None:
    details = {
        "added": ["modeling.py"],
        "removed": [],
        "modified": ["tokenizer_config.json", {"path": "model.safetensors"}],
        "version_signal": None,
        "fingerprints": {"chat_template": {"old": "a", "new": "b"}},
        "seen_again_at": ["2025-01-01T00:00:00+00:00"],
    }
    assert _common.changed_files(details) == [
        ("added", "modeling.py"),
        ("modified", "tokenizer_config.json"),
        ("modified", "model.safetensors"),
    ]
    assert _common.changed_files({"files": {"modified": ["README.md"]}}) == [("modified", "README.md")]
    assert _common.changed_files(None) == []


def test_fingerprint_cells_change_when_the_fingerprint_does() -> None:
    assert _common.fingerprint_cell("ab" * 32) == "ab" * 6
    assert _common.fingerprint_cell(None) == "" and _common.fingerprint_cell([]) == "none"
    one = _common.fingerprint_cell({"a.safetensors": "1"})
    assert one.startswith("1 · ") and one != _common.fingerprint_cell({"a.safetensors": "2"})


def test_sizes_read_as_people_say_them() -> None:
    assert [_common.human_size(n) for n in (0, 999, 5_300, 269_060_000, 3_900_000_000, 12_000_000_000_000)] == [
        "0 bytes",
        "999 bytes",
        "5.3 KB",
        "269.1 MB",
        "3.9 GB",
        "12,000.0 GB",
    ]
