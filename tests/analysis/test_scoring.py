from __future__ import annotations

import json

import pytest

from monitor.analysis import answers_equal, extract_answer, normalize_answer, score_answer
from tests._shared_data import SHARED_DATA

DATA = SHARED_DATA


def _rows(name: str) -> list[dict[str, str]]:
    path = DATA / f"{name}.jsonl"
    if not path.exists():
        pytest.fail(f"reference data {path} is missing (expected ../shared/data next to the repository)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["math500", "aime2024", "gsm8k_test"])
def test_reference_solutions_agree_with_answers(name: str) -> None:
    """Extracting from every reference solution and judging against its answer agrees on >= 99% of rows."""
    rows = _rows(name)
    disagreements = []
    for row in rows:
        score = score_answer(row["solution"], row["answer"])
        if not score.correct:
            disagreements.append((row["id"], score.method, score.extracted, row["answer"]))
    agreement = 1 - len(disagreements) / len(rows)
    print(f"{name}: {len(rows)} rows, agreement {agreement:.4f}, disagreements {len(disagreements)}")
    for disagreement in disagreements:
        print("   ", disagreement)
    assert agreement >= 0.99


@pytest.mark.parametrize("name", ["math500", "gsm8k_test"])
def test_wrong_gold_is_rejected(name: str) -> None:
    """The judge is not lenient: a solution judged against another row's (different) answer is wrong."""
    rows = _rows(name)
    false_accepts = []
    for index, row in enumerate(rows):
        other = rows[(index + 7) % len(rows)]
        if normalize_answer(other["answer"]) == normalize_answer(row["answer"]):
            continue
        if score_answer(row["solution"], other["answer"]).correct:
            false_accepts.append((row["id"], other["answer"]))
    assert false_accepts == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so the answer is $\\boxed{\\frac{1}{2}}$.", ("\\frac{1}{2}", "boxed")),
        ("first \\boxed{3} then \\boxed{(3, \\frac{\\pi}{2})}", ("(3, \\frac{\\pi}{2})", "boxed")),
        ("nested \\boxed{\\sqrt{\\frac{a}{b}}} end", ("\\sqrt{\\frac{a}{b}}", "boxed")),
        ("$\\fbox{12}$", ("12", "fbox")),
        ("or $\\framebox{204}$ minutes", ("204", "fbox")),
        ("\\boxed 5.", ("5", "boxed")),
        ("The final answer is 42.", ("42", "final_answer")),
        ("Therefore, the final answer is: $\\frac{3}{4}$", ("\\frac{3}{4}", "final_answer")),
        ("She makes 9 * 2 = $18.\n#### 18", ("18", "final_answer")),
        ("Answer: 7", ("7", "final_answer")),
        ("最终答案是 15", ("15", "final_answer")),
        ("we get 12 apples, then 15 more ~Multpi12", ("15", "last_number")),
        ("no numbers here", (None, "none")),
    ],
)
def test_extract_answer(text: str, expected: tuple[str | None, str]) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("predicted", "gold"),
    [
        ("0.5", "\\frac{1}{2}"),
        ("\\frac12", "\\dfrac{1}{2}"),
        ("\\frac 59", "\\frac{5}{9}"),
        ("1,000", "1000"),
        ("10{,}000", "10000"),
        ("50\\%", "50"),
        ("30^\\circ", "30"),
        ("30°", "30"),
        ("x = 5", "5"),
        ("5 \\text{ cm}", "5"),
        ("18 dollars", "18"),
        ("\\$18.00", "18"),
        ("2\\sqrt{3}", "\\sqrt{12}"),
        ("\\sqrt2", "\\sqrt{2}"),
        ("\\text{Evelyn}", "Evelyn"),
        ("104.", "104"),
        ("\\textbf{(113) }", "113"),
        ("025", "25"),
        ("\\pi/2", "\\frac{\\pi}{2}"),
        ("(1, 2)", "(1,2)"),
        ("[0, 1)", "[0,1)"),
        ("(0,9) \\cup (9,36)", "(0,9)\\cup(9,36)"),
        ("6 - 5i", "6-5i"),
        ("137 \\frac{1}{2}", "137.5"),
        ("\\text{(C)}", "C"),
        ("2, 3", "3, 2"),
    ],
)
def test_equal_forms(predicted: str, gold: str) -> None:
    assert answers_equal(predicted, gold)


@pytest.mark.parametrize(
    ("predicted", "gold"),
    [
        ("7", "8"),
        ("(1,2)", "(2,1)"),
        ("[1,2)", "(1,2)"),
        ("y = 2x + 3", "2x + 3 + 1"),
        ("\\frac{1}{3}", "0.33"),
        ("12", "120"),
        ("(1,2,3)", "(1,2)"),
    ],
)
def test_different_forms(predicted: str, gold: str) -> None:
    assert not answers_equal(predicted, gold)


def test_score_without_gold_and_without_answer() -> None:
    assert score_answer("The answer is $\\boxed{4}$", None).correct is None
    unanswered = score_answer("", "4")
    assert (unanswered.extracted, unanswered.method, unanswered.correct) == (None, "none", False)
    flagged = score_answer("I computed 3 + 1 = 4", "4")
    assert (flagged.method, flagged.correct) == ("last_number", True)
