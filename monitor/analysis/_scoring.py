r"""Reasoning scorer: extract a final answer from a response and judge it against the gold answer.

Extraction follows what reasoning models and the reference solutions write, in order of trust: the last
``\\boxed{...}`` (nested braces allowed), ``\\fbox``/``\\framebox``, an explicit "final answer is" or
GSM8K's ``#### N``, and, flagged as such, the last number in the text. Judging normalises the LaTeX
surface (fractions, roots, degrees, ``\\text{}``, units, thousands separators, percentages, trailing
periods) and compares tuples and intervals element-wise and numbers by value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = ["ExtractionMethod", "Score", "answers_equal", "extract_answer", "normalize_answer", "score_answer"]

ExtractionMethod = str  # boxed | fbox | final_answer | last_number | none


@dataclass(frozen=True)
class Score:
    """The answer found in a response, how it was found, and whether it matches the gold answer.

    ``correct`` is None when there was no gold answer to judge against; a response with no answer at all
    is judged wrong (a model that stops answering is a regression, not an abstention).
    """

    extracted: str | None
    method: str
    correct: bool | None


_BOX_COMMANDS = re.compile(r"\\(boxed|fbox|framebox)\s*")
_FINAL_PATTERNS = [
    re.compile(r"^\s*####\s*(?P<ans>.+?)\s*$", re.MULTILINE),
    re.compile(
        r"(?:final\s+answer|the\s+answer)\s*(?:is|=|:)\s*:?\s*(?P<ans>\$[^$]+\$|[^\n]+?)\s*(?:$|\n|(?<=[\d$])\.(?:\s|$))",
        re.IGNORECASE | re.MULTILINE,
    ),
    re.compile(r"^\s*\**answer\**\s*[:：]\s*\**(?P<ans>[^\n]+?)\**\s*$", re.IGNORECASE | re.MULTILINE),
    re.compile(r"(?:最终答案|答案)\s*(?:是|为|[:：])\s*(?P<ans>[^\n。]+)"),
]
# A number that is not part of a word or a user name ("Multpi12", "BossLu99", "x2").
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?(?![A-Za-z0-9_])")


def extract_answer(text: str) -> tuple[str | None, str]:
    """The final answer in ``text`` and the method that found it (``none`` when nothing was found)."""
    boxed = _last_boxed(text)
    if boxed is not None:
        return boxed
    for pattern in _FINAL_PATTERNS:
        matches = list(pattern.finditer(text))
        if matches:
            answer = _strip_math(matches[-1].group("ans"))
            if answer:
                return answer, "final_answer"
    numbers = _NUMBER.findall(text.replace("{,}", ","))
    if numbers:
        return numbers[-1], "last_number"
    return None, "none"


def _last_boxed(text: str) -> tuple[str, str] | None:
    r"""The content of the last ``\\boxed``/``\\fbox``/``\\framebox`` (balanced braces, or ``\\boxed 5``)."""
    found: tuple[str, str] | None = None
    for match in _BOX_COMMANDS.finditer(text):
        start = match.end()
        method = "boxed" if match.group(1) == "boxed" else "fbox"
        if start < len(text) and text[start] == "{":
            content = _balanced(text, start)
            if content is not None:
                found = (content.strip(), method)
        else:
            bare = re.match(r"[^\s$.,;]+", text[start:])
            if bare:
                found = (bare.group(0), method)
    return found


def _balanced(text: str, start: int) -> str | None:
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{" and text[index - 1] != "\\":
            depth += 1
        elif char == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index]
    return None


def _strip_math(answer: str) -> str:
    answer = answer.strip().strip("*").strip()
    if answer.startswith("$") and answer.count("$") >= 2:
        answer = answer.split("$")[1]
    inner = _last_boxed(answer)
    if inner is not None:
        answer = inner[0]
    return answer.strip().rstrip(".").strip()


def score_answer(text: str, gold: str | None) -> Score:
    """Extract the answer from ``text`` (a final answer, not the reasoning) and judge it against ``gold``."""
    extracted, method = extract_answer(text)
    if gold is None:
        return Score(extracted, method, None)
    correct = extracted is not None and answers_equal(extracted, gold)
    return Score(extracted, method, correct)


def answers_equal(predicted: str, gold: str) -> bool:
    """Whether two answers are the same after normalisation, element-wise for tuples, or by value."""
    a, b = normalize_answer(predicted), normalize_answer(gold)
    if a == b:
        return True
    if _choice_equal(a, b):
        return True
    return _structured_equal(a, b)


def _choice_equal(a: str, b: str) -> bool:
    r"""Multiple choice: ``(C)`` and ``C`` and ``\\text{(C)}`` are the same answer."""
    match_a = re.fullmatch(r"\(?([A-Ea-e])\)?", a)
    match_b = re.fullmatch(r"\(?([A-Ea-e])\)?", b)
    return bool(match_a and match_b and match_a.group(1).upper() == match_b.group(1).upper())


def _structured_equal(a: str, b: str) -> bool:
    parts_a, brackets_a = _split_sequence(a)
    parts_b, brackets_b = _split_sequence(b)
    if len(parts_a) > 1 or len(parts_b) > 1:
        if len(parts_a) != len(parts_b):
            return False
        if brackets_a and brackets_b and brackets_a != brackets_b:
            return False
        if all(_atom_equal(x, y) for x, y in zip(parts_a, parts_b, strict=True)):
            return True
        # Unordered answers ("the roots are 2, 3") given in another order.
        if not brackets_a and not brackets_b:
            return sorted(parts_a) == sorted(parts_b)
        return False
    return _atom_equal(a, b)


def _split_sequence(text: str) -> tuple[list[str], str]:
    """Split a tuple, interval or list at top-level commas; also return its brackets, e.g. ``(]``."""
    brackets = ""
    if len(text) >= 2 and text[0] in "([" and text[-1] in ")]" and _wraps(text):
        brackets, text = text[0] + text[-1], text[1:-1]
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part != ""], brackets


def _wraps(text: str) -> bool:
    """Whether the outer bracket pair encloses the whole text (``(1,2)`` yes, ``(1)(2)`` no)."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0 and index != len(text) - 1:
                return False
    return True


def _atom_equal(a: str, b: str) -> bool:
    if a == b:
        return True
    value_a, value_b = _numeric_value(a), _numeric_value(b)
    if value_a is None or value_b is None:
        return False
    return math.isclose(value_a, value_b, rel_tol=1e-6, abs_tol=1e-9)


_UNITS = (
    r"(?:square\s+)?(?:units?|cm|centimeters?|m|meters?|km|kilometers?|mm|inches|inch|in|feet|foot|ft|yards?|miles?|"
    r"mph|hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?|dollars?|cents?|degrees?|°|"
    r"pounds?|lbs?|ounces?|oz|grams?|g|kg|kilograms?|liters?|litres?|l|ml|gallons?|cups?|people|students?|"
    r"apples?|cookies?|pieces?|points?|marbles?|books?|pages?|cars?|times|ways|sq|sq\.?\s*(?:ft|in|units?))"
)
_TEXT_COMMANDS = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mathit|mbox|operatorname|textnormal|mathsf)\s*\{")


def normalize_answer(answer: str) -> str:
    """A canonical string form of an answer: the LaTeX surface and units removed, numbers canonical."""
    text = answer.strip()
    for _ in range(3):
        boxed = _last_boxed(text)
        if boxed is None:
            break
        text = boxed[0]
    text = text.replace("\n", " ").replace("\\$", "").replace("$", "")
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])", "", text)
    text = re.sub(r"\\(?:displaystyle|textstyle|!|,|;|:|quad|qquad)(?![a-zA-Z])", " ", text)
    text = text.replace("\\ ", " ").replace("~", " ")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = text.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ")
    text = _unwrap_text_commands(text)
    # Degrees, percentages, currency.
    text = re.sub(r"\^\s*\{?\\circ\}?", "", text).replace("\\circ", "").replace("°", "")
    text = text.replace("\\%", "").replace("%", "").replace("\\$", "")
    text = re.sub(r"\{,\}", ",", text)
    # \frac12, \frac 59, \sqrt2 -> braced forms.
    text = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\frac\s*\{([^{}]*)\}\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\sqrt\s*([0-9a-zA-Z])", r"\\sqrt{\1}", text)
    text = text.strip()
    # "x = 5", "k=3": keep the value. Not for equations of curves ("y = 2x + 3").
    match = re.fullmatch(r"[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*(.+)", text)
    if match and not re.search(r"[a-zA-Z]", re.sub(r"\\[a-zA-Z]+", "", match.group(1))):
        text = match.group(1)
    # Units and words after a number: "18 dollars", "5 cm", "10 square units".
    text = re.sub(rf"(?<=[\d}}])\s*(?:{_UNITS})(?:\^\{{?\d\}}?|\^\d)?\s*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", "", text)
    text = text.rstrip(".").rstrip(",")
    # A number wrapped in parentheses and nothing else: "(113)".
    paren = re.fullmatch(r"\((-?\d+(?:\.\d+)?)\)", text)
    if paren:
        text = paren.group(1)
    if re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    return _canonical_number(text)


def _unwrap_text_commands(text: str) -> str:
    r"""``\\text{Evelyn}`` -> ``Evelyn``; ``5\\text{ cm}`` -> ``5 cm`` (the unit is dropped later)."""
    while True:
        match = _TEXT_COMMANDS.search(text)
        if not match:
            return text
        content = _balanced(text, match.end() - 1)
        if content is None:
            return text
        text = text[: match.start()] + content + text[match.end() + len(content) + 1 :]


def _canonical_number(text: str) -> str:
    """``025`` -> ``25``, ``3.50`` -> ``3.5``, ``.5`` -> ``0.5``; anything else unchanged."""
    if re.fullmatch(r"[-+]?(?:\d+\.?\d*|\.\d+)", text):
        value = Fraction(text)
        if value.denominator == 1:
            return str(value.numerator)
        return format(float(value), ".12g")
    return text


def _numeric_value(text: str) -> float | None:
    """The value of a numeric answer (fractions, roots, pi, mixed numbers), or None if it is not one."""
    if len(text) > 80:
        return None
    return _evaluate(text)


@lru_cache(maxsize=4096)
def _evaluate(text: str) -> float | None:
    mixed = re.fullmatch(r"(-?\d+)\\frac\{(\d+)\}\{(\d+)\}", text)
    if mixed:
        whole, num, den = (int(group) for group in mixed.groups())
        if den:
            return whole + (num / den if whole >= 0 else -num / den)
    expression = _to_python(text)
    if expression is None:
        return None
    try:
        value = eval(expression, {"__builtins__": {}}, _SAFE_NAMES)  # letters are refused by _to_python
    except (ArithmeticError, SyntaxError, TypeError, ValueError, NameError, OverflowError):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


_SAFE_NAMES = {"sqrt": math.sqrt, "pi": math.pi, "e": math.e}


def _to_python(text: str) -> str | None:
    """Translate a small LaTeX arithmetic expression to Python, or None when it has anything else."""
    expr = text
    for _ in range(6):
        new = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", expr)
        new = re.sub(r"\\sqrt\[(\d+)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", new)
        new = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", new)
        new = re.sub(r"\^\{([^{}]*)\}", r"**(\1)", new)
        if new == expr:
            break
        expr = new
    expr = expr.replace("\\pi", "pi").replace("\\cdot", "*").replace("\\times", "*").replace("^", "**")
    expr = expr.replace("{", "(").replace("}", ")")
    if re.search(r"\\|[a-df-oq-zA-Z]|\d_", expr.replace("sqrt", "").replace("pi", "")):
        return None
    if not re.fullmatch(r"[\d.+\-*/() sqrtpie]+", expr):
        return None
    # Implicit multiplication: 2sqrt(3), 3pi, )(, 2(.
    expr = re.sub(r"(\d|\))\s*(?=sqrt|pi|\()", r"\1*", expr)
    expr = re.sub(r"(pi|\))\s*(?=\d)", r"\1*", expr)
    if "**" in expr and re.search(r"\*\*\(?\d{4,}", expr):
        return None  # refuse huge powers
    return expr
