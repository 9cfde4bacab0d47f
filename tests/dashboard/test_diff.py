"""The side-by-side diff of a changed small file (dashboard/_diff.py): pure functions over two texts."""

from __future__ import annotations

import json

from dashboard import _diff


def test_side_by_side_pairs_changed_lines_and_folds_the_unchanged() -> None:
    before = "\n".join(f"line {i}" for i in range(1, 21))
    after = before.replace("line 10", "line ten").replace("line 20", "line 20\nline 21")
    rows = _diff.side_by_side(before, after, context=2)
    changed = rows[rows["change"] != ""]
    assert changed[["before", "after_line", "after", "change"]].values.tolist() == [
        ["line 10", 10, "line ten", "changed"],
        ["", 21, "line 21", "added"],
    ]
    assert changed["before_line"].iloc[0] == 10 and changed["before_line"].isna().iloc[1], "no line before"
    assert "…" in set(rows["before"]), "unchanged lines between the two changes are folded"
    assert len(rows) < 20


def test_a_removed_line_has_no_after_side() -> None:
    rows = _diff.side_by_side("a\nb\nc", "a\nc")
    assert rows[rows["change"] == "removed"][["before_line", "before", "after"]].values.tolist() == [[2, "b", ""]]


def test_the_chat_template_inside_tokenizer_config_is_its_own_section_with_real_lines() -> None:
    old = json.dumps(
        {"model_max_length": 4096, "chat_template": "{% for m in messages %}\n{{ m.content }}\n{% endfor %}"}
    )
    new = json.dumps(
        {"model_max_length": 4096, "chat_template": "{% for m in messages %}\nYou are ChatGPT.\n{% endfor %}"}
    )
    sections = _diff.sections("tokenizer_config.json", old, new)
    assert [s.title for s in sections] == ["tokenizer_config.json → chat_template"], "the rest did not change"
    rows = _diff.side_by_side(sections[0].before, sections[0].after)
    assert rows[rows["change"] == "changed"][["before", "after"]].values.tolist() == [
        ["{{ m.content }}", "You are ChatGPT."]
    ]
    both = _diff.sections("tokenizer_config.json", old, new.replace("4096", "8192"))
    assert [s.title for s in both][1] == "tokenizer_config.json (without the chat template)"
    assert '"model_max_length": 8192' in both[1].after, "pretty-printed, one key per line"


def test_an_added_file_and_a_unified_diff() -> None:
    sections = _diff.sections("chat_template.jinja", "", "{{ bos_token }}\n")
    assert len(sections) == 1 and sections[0].before == ""
    text = _diff.unified("x\ny", "x\nz", "chat_template.jinja")
    assert text.splitlines()[:2] == ["--- a/chat_template.jinja", "+++ b/chat_template.jinja"]
    assert "-y" in text and "+z" in text
    assert _diff.sections("generation_config.json", '{"a": 1}', '{"a":1}') == [], "reformatting is no change"
