"""Black-box fingerprints: pure comparison rules, then the real thing against the loopback server."""

from __future__ import annotations

import pytest

from monitor.engines import (
    FINGERPRINT_PROMPTS,
    Fingerprint,
    FingerprintEntry,
    OpenAIEngine,
    TransformersEngine,
    compare_fingerprints,
    take_fingerprint,
)
from monitor.errors import ComparisonError
from tests.engines._openai_server import OpenAICompatibleServer
from tests.engines.conftest import SERVED_ID

# Few prompts and tokens: the model runs on a shared CPU. The full set is FINGERPRINT_PROMPTS.
PROMPTS = (("capital", "What is the capital of France?"), ("identity", "Who are you? Answer in one sentence."))
MAX_TOKENS = 8


def _fp(*entries: tuple[str, str, list[float] | None], max_tokens: int = 8) -> Fingerprint:
    return Fingerprint(
        served_model="m",
        entries=tuple(
            FingerprintEntry(pid, text, "length", tokens=text.split() if lps else None, logprobs=lps)
            for pid, text, lps in entries
        ),
        max_tokens=max_tokens,
        seed=0,
    )


def test_same_answers_are_unchanged_and_hash_alike() -> None:
    a = _fp(("x", "Paris is nice", [-0.1, -0.2, -0.3]), ("y", "I am Smol", [-0.5, -0.1, -0.2]))
    b = _fp(("x", "Paris is nice", [-0.11, -0.2, -0.31]), ("y", "I am Smol", [-0.5, -0.12, -0.2]))
    diff = compare_fingerprints(a, b)
    assert diff.comparable and not diff.changed and diff.compared == 2
    assert diff.median_logprob_delta is not None and diff.median_logprob_delta < 0.02
    assert a.content_hash() == _fp(*[(e.prompt_id, e.text, e.logprobs) for e in a.entries]).content_hash()


def test_a_changed_greedy_answer_is_a_change() -> None:
    a = _fp(("x", "Paris is nice", None), ("y", "I am Smol", None))
    b = _fp(("x", "Paris is nice", None), ("y", "Arr, I be a pirate", None))
    diff = compare_fingerprints(a, b)
    assert diff.changed and diff.text_changed == ["y"]
    assert "1 of 2 prompts" in diff.reason
    assert a.content_hash() != b.content_hash()


def test_logprobs_moving_on_most_prompts_is_a_change_but_one_noisy_prompt_is_not() -> None:
    base = [("x", "a b c", [-0.1, -0.2, -0.3]), ("y", "d e f", [-0.1, -0.2, -0.3]), ("z", "g h i", [-0.1] * 3)]
    one_noisy = [base[0], base[1], ("z", "g h i", [-1.5, -0.1, -0.1])]
    requantised = [(pid, text, [lp - 0.4 for lp in lps]) for pid, text, lps in base]
    assert not compare_fingerprints(_fp(*base), _fp(*one_noisy)).changed
    diff = compare_fingerprints(_fp(*base), _fp(*requantised))
    assert diff.changed and diff.text_changed == [] and diff.median_logprob_delta == pytest.approx(0.4)
    assert _fp(*base).content_hash() != _fp(*requantised).content_hash()


def test_fingerprints_from_another_probe_set_are_not_comparable() -> None:
    diff = compare_fingerprints(_fp(("x", "a", None)), _fp(("x", "b", None), max_tokens=16))
    assert not diff.comparable and not diff.changed
    assert not compare_fingerprints(_fp(("x", "a", None)), _fp(("y", "b", None))).comparable


def test_stored_form_round_trips_and_bad_data_is_named() -> None:
    fingerprint = _fp(("x", "a b", [-0.5, -0.25]))
    assert Fingerprint.from_dict(fingerprint.to_dict()) == fingerprint
    with pytest.raises(ComparisonError, match="unreadable"):
        Fingerprint.from_dict({"entries": [{"nope": 1}]})


def test_the_default_probe_set_is_stable() -> None:
    ids = [pid for pid, _ in FINGERPRINT_PROMPTS]
    assert len(ids) == len(set(ids)) == 8  # changing the set re-baselines every endpoint: bump the version


@pytest.mark.slow
def test_fingerprint_is_stable_and_sees_a_template_change(
    smollm_engine: TransformersEngine, variant_engine: TransformersEngine
) -> None:
    with OpenAICompatibleServer({SERVED_ID: smollm_engine}) as server:
        engine = OpenAIEngine("prod", base_url=server.base_url, served_model=SERVED_ID)
        first = take_fingerprint(engine, prompts=PROMPTS, max_tokens=MAX_TOKENS, top_logprobs=3)
        second = take_fingerprint(engine, prompts=PROMPTS, max_tokens=MAX_TOKENS, top_logprobs=3)
        chats = server.chat_requests()
        assert all(r.body["temperature"] == 0.0 and r.body["logprobs"] is True for r in chats)

        # Same served model: same answers, same logprobs (up to float noise), same hash.
        assert [e.prompt_id for e in first.entries] == ["capital", "identity"]
        assert all(e.text and e.logprobs and len(e.logprobs) == len(e.tokens or []) for e in first.entries)
        same = compare_fingerprints(first, second)
        assert same.comparable and not same.changed
        assert first.content_hash() == second.content_hash()
        assert first.system_fingerprint is not None and first.system_fingerprint == second.system_fingerprint

        # The same weights redeployed with another default system prompt, under the same id.
        server.serve({SERVED_ID: variant_engine})
        swapped = take_fingerprint(engine, prompts=PROMPTS, max_tokens=MAX_TOKENS, top_logprobs=3)
        engine.close()
    diff = compare_fingerprints(first, swapped)
    assert diff.changed, diff
    assert diff.text_changed, "a pirate system prompt changes at least one greedy answer"
    assert swapped.content_hash() != first.content_hash()
    assert swapped.system_fingerprint != first.system_fingerprint
