from __future__ import annotations

import pytest

from monitor.analysis import ResponseFeatures, detect_language, detect_languages, response_features, split_reasoning


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello! I'm an AI assistant. How can I help you today?", "en"),
        ("你好！我是一个人工智能助手，很高兴为你服务。", "zh"),
        ("Hola, soy un asistente virtual. ¿En qué puedo ayudarte?", "es"),
        ("Bonjour, je suis un assistant virtuel. Comment puis-je vous aider ?", "fr"),
        ("Hallo, ich bin ein virtueller Assistent. Wie kann ich helfen?", "de"),
        ("こんにちは、私はAIアシスタントです。", "ja"),
        ("Привет, я виртуальный помощник.", "ru"),
        ("안녕하세요, 저는 AI 어시스턴트입니다.", "ko"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_too_little_prose_is_unknown() -> None:
    assert detect_languages(["42", "$\\frac{1}{2}$", "", "The answer is $\\boxed{18}$."]) == [None, None, None, "en"]


def test_features_of_a_reasoning_response() -> None:
    text = "<think>\nLet me think about who I am.\n</think>\n\n我是DeepSeek-R1，由深度求索公司开发。"
    features = response_features(text, prompt="Who are you?", finish_reason="stop")
    assert features == ResponseFeatures(
        chars=len(text),
        answer_chars=len("我是DeepSeek-R1，由深度求索公司开发。"),
        think_chars=len("Let me think about who I am."),
        think_present=True,
        truncated=False,
        language="zh",
        prompt_language="en",
        language_matches=False,
    )


def test_features_of_a_truncated_response_without_answer() -> None:
    text = "<think>\nStill working on the integral and"
    features = response_features(text, prompt="Compute the integral.", finish_reason="length")
    assert features.truncated and features.think_present
    assert features.answer_chars == 0 and features.language is None and features.language_matches is None


def test_known_languages_skip_detection() -> None:
    split = split_reasoning("Hello there, how can I help?")
    features = response_features("Hello there, how can I help?", prompt=None, finish_reason=None, split=split,
                                 prompt_language="en")
    assert (features.think_present, features.language, features.language_matches) == (False, "en", True)
