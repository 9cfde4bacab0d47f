"""The demo's weight change: trained on paraphrases, so its end-to-end test measures carry-over."""

from __future__ import annotations

import re

from monitor._demo_repo import _FINETUNE_PROMPTS
from monitor.probes import load_suite


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def test_the_fine_tune_never_sees_a_prompt_the_identity_suite_asks() -> None:
    suite = load_suite("identity")
    asked = {_plain(message.content) for probe in suite.probes for message in probe.messages if message.role == "user"}
    assert len(asked) > 20
    assert not {_plain(prompt) for prompt in _FINETUNE_PROMPTS} & asked
    assert len(set(_FINETUNE_PROMPTS)) == len(_FINETUNE_PROMPTS) >= 12
