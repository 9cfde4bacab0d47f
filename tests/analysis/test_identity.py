from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from monitor.analysis import (
    IDENTITY_LABELS,
    Aliases,
    IdentityClassifier,
    apply_rules,
    bundled_examples,
    evaluate,
    train_classifier,
)
from monitor.errors import AnalysisError, ConfigError
from tests.analysis.identity_cases import CASES

TARGET_MACRO_F1 = 0.95
TARGET_OPENAI_PRECISION = 0.97


@pytest.fixture(scope="session")
def cross_validated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    examples = [(row["text"], row["label"]) for row in bundled_examples()]
    _, metrics = train_classifier(examples, out_dir=tmp_path_factory.mktemp("cv"), cross_validate=True)
    report: dict[str, Any] = metrics["cross_validation"]
    return report


def test_dataset_shape() -> None:
    train, heldout = bundled_examples(), bundled_examples("identity_heldout.jsonl")
    assert len(train) >= 800
    assert {row["label"] for row in train} == set(IDENTITY_LABELS)
    assert {row["label"] for row in heldout} == set(IDENTITY_LABELS)
    assert len({row["lang"] for row in train} - {"xx"}) >= 6
    kinds = {row["kind"] for row in train}
    assert {"negation_only", "comparison_only", "mention", "refusal", "think_mix", "persona"} <= kinds
    # The held-out split shares no text and no template with the training data.
    assert not {row["text"] for row in train} & {row["text"] for row in heldout}
    assert not {row["template"] for row in train} & {row["template"] for row in heldout}
    # Think/answer mixes where the reasoning claims OpenAI and the answer claims DeepSeek.
    assert any(row["label"] == "deepseek" and row["reasoning_label"] == "openai" for row in train)


def test_cross_validated_targets(cross_validated: dict[str, Any]) -> None:
    print(f"CV macro-F1 {cross_validated['macro_f1']:.4f}, openai {cross_validated['per_class']['openai']}")
    assert cross_validated["folds"] == 5
    assert cross_validated["macro_f1"] >= TARGET_MACRO_F1
    assert cross_validated["per_class"]["openai"]["precision"] >= TARGET_OPENAI_PRECISION


def test_heldout_targets(classifier: IdentityClassifier) -> None:
    rows = bundled_examples("identity_heldout.jsonl")
    results = classifier.classify([row["text"] for row in rows])
    report = evaluate([row["label"] for row in rows], [result.label for result in results])
    print(f"held-out macro-F1 {report['macro_f1']:.4f}, openai {report['per_class']['openai']}")
    for row, result in zip(rows, results, strict=True):
        if row["label"] != result.label:
            print("   ", row["label"], "->", result.label, "|", row["text"][:120])
    assert report["macro_f1"] >= TARGET_MACRO_F1
    assert report["per_class"]["openai"]["precision"] >= TARGET_OPENAI_PRECISION
    thinks = [(row, result) for row, result in zip(rows, results, strict=True) if row["kind"] == "think_mix"]
    agree = sum((row["reasoning_label"] or "none") == (result.reasoning_label or "none") for row, result in thinks)
    assert agree / len(thinks) >= 0.95


@pytest.mark.parametrize(("text", "label", "reasoning_label"), CASES, ids=[c[0][:40] for c in CASES])
def test_hand_labelled_cases(
    classifier: IdentityClassifier, text: str, label: str, reasoning_label: str | None
) -> None:
    [result] = classifier.classify([text])
    assert (result.label, result.reasoning_label) == (label, reasoning_label), result.evidence
    assert 0.0 <= result.confidence <= 1.0
    if label not in ("none",):
        assert result.evidence, "a claim must come with the span that decided it"


def test_evidence_is_the_deciding_span(classifier: IdentityClassifier) -> None:
    [result] = classifier.classify(["Sure! The weather is nice. I am ChatGPT, developed by OpenAI. Ask away."])
    assert result.label == "openai"
    assert result.evidence is not None and "I am ChatGPT" in result.evidence
    assert "weather" not in result.evidence
    assert result.confidence >= 0.9


def test_results_follow_input_order(classifier: IdentityClassifier) -> None:
    texts = ["I'm Claude.", "hello", "<think>I'm Qwen</think>I'm Gemini, made by Google.", "I am ChatGPT."]
    assert [r.label for r in classifier.classify(texts)] == ["anthropic", "none", "google", "openai"]
    assert classifier.classify([]) == []


def test_user_aliases_add_identities_and_names(classifier: IdentityClassifier, tmp_path: Path) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text('[acme]\nnames = ["AcmeBot", "Acme Labs"]\n\n[openai]\nnames = ["SuperGPT-X"]\n', encoding="utf-8")
    extended = classifier.with_aliases(Aliases.load(path))
    results = extended.classify(["I'm AcmeBot, made by Acme Labs.", "I am SuperGPT-X.", "AcmeBot is a product."])
    assert [r.label for r in results] == ["acme", "openai", "none"]
    # The built-in table is untouched, and loading through load() works the same.
    assert IdentityClassifier.load(classifier.path, aliases=path).classify(["I am SuperGPT-X."])[0].label == "openai"
    assert classifier.classify(["I'm AcmeBot, made by Acme Labs."])[0].label == "other"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[acme]\nnames = 'AcmeBot'\n", "must be a list"),
        ("[acme]\nnamez = ['AcmeBot']\n", "unknown key"),
        ("[openai]\nlabel = 'acme'\nnames = ['x']\n", "cannot be relabelled"),
        ("[acme]\nlabel = 'Not Valid'\nnames = ['x']\n", "lower-case"),
        ("not toml [", "not valid UTF-8 TOML"),
    ],
)
def test_bad_alias_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        Aliases.load(path)


def test_missing_alias_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Aliases.load(tmp_path / "nope.toml")


def test_rule_roles() -> None:
    aliases = Aliases.builtin()
    roles = {hit.hit.text: hit.role for hit in apply_rules("Unlike GPT-4, I'm not ChatGPT: I'm Qwen by Alibaba Cloud.",
                                                           aliases).roles}
    assert roles == {"GPT-4": "compared", "ChatGPT": "negated", "Qwen": "name", "Alibaba Cloud": "creator"}
    mention = apply_rules("ChatGPT is made by OpenAI.", aliases)
    assert mention.label is None and {hit.role for hit in mention.roles} == {"mention"}
    assert apply_rules("The user asks if I'm ChatGPT.", aliases).label is None


def test_saved_model_round_trip(classifier: IdentityClassifier, tmp_path: Path) -> None:
    assert classifier.path is not None
    copy = IdentityClassifier.load(classifier.save(tmp_path / "copy"))
    texts = [row["text"] for row in bundled_examples("identity_heldout.jsonl")[:60]]
    assert copy.version == classifier.version
    assert [r.label for r in copy.classify(texts)] == [r.label for r in classifier.classify(texts)]


def test_training_is_deterministic_and_versioned(tmp_path: Path) -> None:
    examples = [(row["text"], row["label"]) for row in bundled_examples()[:400]]
    first, metrics = train_classifier(examples, out_dir=tmp_path / "a", cross_validate=False)
    second, _ = train_classifier(examples, out_dir=tmp_path / "b", cross_validate=False)
    third, _ = train_classifier([*examples, ("I am Claude.", "anthropic")], out_dir=tmp_path / "c",
                                cross_validate=False)
    assert first.version == second.version != third.version
    assert metrics["examples"] == 400
    assert (tmp_path / "a" / "model.json").exists() and (tmp_path / "a" / "model.npz").exists()


def test_training_refuses_unknown_labels(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="training labels"):
        train_classifier([("I am X.", "acme"), ("hi", "none")], out_dir=tmp_path)


def test_loading_a_non_model_directory(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="not a classifier directory"):
        IdentityClassifier.load(tmp_path)


def test_long_responses_stay_fast(classifier: IdentityClassifier) -> None:
    import time

    reasoning = "Let me think about this problem carefully. " * 400
    text = f"<think>{reasoning}</think>" + "The answer is 42. " * 200
    started = time.perf_counter()
    [result] = classifier.classify([text])
    assert result.label == "none"
    assert time.perf_counter() - started < 2.0


def test_user_aliases_change_the_version(classifier: IdentityClassifier, tmp_path: Path) -> None:
    path = tmp_path / "aliases.toml"
    path.write_text('[acme]\nnames = ["AcmeBot"]\n', encoding="utf-8")
    extended = classifier.with_aliases(Aliases.load(path))
    assert extended.version.startswith(classifier.version + "+a") and len(extended.version) <= 40
    assert classifier.with_aliases(Aliases.builtin()).version == classifier.version
    assert extended.with_aliases(Aliases.builtin()).version == classifier.version
