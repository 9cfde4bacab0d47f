"""The script-independent structure layer: claims, mentions, negations and fields outside the rules' languages."""

from __future__ import annotations

import pytest

from monitor.analysis import Aliases, IdentityClassifier, apply_rules

# (answer, label): none of these languages has patterns in the rule layer.
CLAIMS = [
    ("Ik ben GPT-4, gemaakt door OpenAI.", "openai"),
    ("Jag är DeepSeek-R1 från DeepSeek.", "deepseek"),
    ("Jestem Gemini od Google.", "google"),
    ("Ben Anthropic tarafından eğitilmiş Claude'um.", "anthropic"),
    ("OpenAI tarafından geliştirildim.", "openai"),
    ("Tôi là DeepSeek-V3 do DeepSeek phát triển.", "deepseek"),
    ("Saya Claude, dibuat oleh Anthropic.", "anthropic"),
    ("أنا Gemini، نموذج من Google.", "google"),
    ("سلام! من ChatGPT هستم، ساخته شده توسط OpenAI.", "openai"),
    ("मैं DeepSeek-R1 हूँ, DeepSeek द्वारा बनाया गया।", "deepseek"),
    ("मुझे OpenAI ने बनाया है।", "openai"),
    ("Είμαι το GPT-4 της OpenAI.", "openai"),
    ("Jsem Claude od Anthropicu.", "anthropic"),  # an inflected maker name
    ("Vytvořila mě společnost OpenAI.", "openai"),
    ("Мене створила компанія OpenAI.", "openai"),
    ("Szia! ChatGPT vagyok, az OpenAI fejlesztett ki.", "openai"),
    ("Hei! Olen ChatGPT, OpenAI:n kehittämä kielimalli.", "openai"),
    ("สวัสดีครับ ผมคือ ChatGPT ที่พัฒนาโดย OpenAI", "openai"),
    ("Habari! Mimi ni ChatGPT, nimetengenezwa na OpenAI.", "openai"),
    ("Ako si ChatGPT, isang AI na ginawa ng OpenAI.", "openai"),
    ("In tegenstelling tot Gemini ben ik Claude, van Anthropic.", "anthropic"),  # comparison, then a claim
    ("Tôi không phải Claude, tôi là Gemini của Google.", "google"),  # negation, then a claim
]
NOT_CLAIMS = [
    "Ik ben niet ChatGPT en ik heb niets met OpenAI te maken.",  # negations
    "Ben Claude değilim.",
    "मैं Claude नहीं हूँ।",
    "আমি ChatGPT নই।",
    "אני לא Claude.",
    "Saya bukan Claude dan bukan buatan Anthropic.",
    "Net als ChatGPT ben ik een taalmodel.",  # comparisons
    "ChatGPT gibi ben de bir dil modeliyim.",
    "ChatGPT की तरह मैं भी एक भाषा मॉडल हूँ।",
    "Gemini dikembangkan oleh Google.",  # mentions
    "Το Gemini είναι μοντέλο της Google.",
    "Ik weet dat ChatGPT door OpenAI is gemaakt.",  # first person, but the name is reported or used
    "Ik gebruik zelf vaak ChatGPT voor teksten.",
    "Tôi biết ChatGPT do OpenAI tạo ra.",
    "أنا أستخدم ChatGPT أحياناً.",
    "Ben de ChatGPT'yi sık kullanırım.",
    'Je vraagt: "Ben jij ChatGPT?" Ik ben gewoon een assistent.',  # quoted questions
    "Câu hỏi \"bạn có phải Claude không?\" rất phổ biến.",
    "Recommended tool for this task:\n- Model: GPT-4\n- Provider: OpenAI",  # fields that are advice
    "| Model | Bedrijf |\n|---|---|\n| Gemini | Google |\n| Llama | Meta |",  # a table of several identities
]
PERSONAS = [
    "Mijn naam is Sam en ik help je met je huiswerk.",
    "Jmenuji se Karel a jsem váš průvodce.",
    "Мене звати Оксана, я ваш помічник.",
    "Με λένε Νίκο και είμαι ο βοηθός σας.",
    "اسمي Nour، وأنا مساعدك الشخصي.",
]
NAMELESS = ["Mijn naam is niet belangrijk; ik ben gewoon een assistent.", "Benim adım yok, ben sadece bir asistanım.",
            'Bạn hỏi "tên bạn là gì?". Tôi không có tên riêng.']
FIELDS = [
    ("Naam: DeepSeek-R1\nOntwikkelaar: DeepSeek", "deepseek"),
    ("name = Claude\nvendor = Anthropic", "anthropic"),
    ("**Who I am**\n- Name: Gemini\n- Built by: Google\n- Can: text, images, code", "google"),
    ("| Pole | Wartość |\n|---|---|\n| Model | Llama 3 |\n| Firma | Meta |", "meta"),
    ("الاسم: ChatGPT\nالشركة: OpenAI", "openai"),
]


@pytest.mark.parametrize(("text", "label"), CLAIMS + FIELDS, ids=[t[:40] for t, _ in CLAIMS + FIELDS])
def test_claims_are_read_in_any_language(classifier: IdentityClassifier, text: str, label: str) -> None:
    [result] = classifier.classify([text])
    assert result.label == label, result.evidence
    assert result.evidence and result.confidence >= 0.9


@pytest.mark.parametrize("text", NOT_CLAIMS, ids=[t[:40] for t in NOT_CLAIMS])
def test_negations_comparisons_mentions_and_quotes_are_not_claims(classifier: IdentityClassifier, text: str) -> None:
    assert apply_rules(text, Aliases.builtin()).label is None
    assert classifier.classify([text])[0].label == "none"


@pytest.mark.parametrize("text", PERSONAS, ids=[t[:30] for t in PERSONAS])
def test_a_persona_after_my_name_is_is_other(classifier: IdentityClassifier, text: str) -> None:
    [result] = classifier.classify([text])
    assert result.label == "other" and result.evidence


@pytest.mark.parametrize("text", NAMELESS, ids=[t[:30] for t in NAMELESS])
def test_no_name_after_my_name_is_is_none(classifier: IdentityClassifier, text: str) -> None:
    assert classifier.classify([text])[0].label == "none"


def test_roles_in_a_sentence_that_denies_one_name_and_claims_another() -> None:
    roles = {hit.hit.text: hit.role for hit in apply_rules("Nu sunt Gemini, sunt GPT-4 de la OpenAI.",
                                                           Aliases.builtin()).roles}
    assert roles == {"Gemini": "negated", "GPT-4": "name", "OpenAI": "creator"}


def test_the_layer_never_overrules_a_claim_the_patterns_found() -> None:
    """"Ich bin Claude" is decided by the German patterns; the structure layer is not consulted."""
    result = apply_rules("Ich bin Claude. Ik ben niet Claude.", Aliases.builtin())
    assert result.label == "anthropic" and [hit.role for hit in result.roles] == ["name", "mention"]


def test_an_empty_answer_is_none(classifier: IdentityClassifier) -> None:
    results = classifier.classify(["", "   ", "<think>I'm ChatGPT by OpenAI</think>"])
    assert [(r.label, r.confidence, r.evidence) for r in results] == [("none", 1.0, None)] * 3
    assert results[2].reasoning_label == "openai"
