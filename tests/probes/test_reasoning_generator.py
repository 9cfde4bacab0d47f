"""probes/reasoning.yaml is exactly what probes/_generate_reasoning.py produces, and its answers are right."""

from __future__ import annotations

import importlib.util
import math
import re
from fractions import Fraction
from pathlib import Path
from types import ModuleType

import pytest
import sympy

from monitor.probes import load_suite

PROBES = Path(__file__).resolve().parents[2] / "probes"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_generate_reasoning", PROBES / "_generate_reasoning.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_yaml_equals_generator_output(generator: ModuleType) -> None:
    committed = (PROBES / "reasoning.yaml").read_text(encoding="utf-8")
    assert committed == generator.render(), (
        "probes/reasoning.yaml is stale: run .venv/bin/python probes/_generate_reasoning.py"
    )


def test_generator_is_deterministic(generator: ModuleType) -> None:
    assert generator.build() == generator.build()
    assert generator.build().content_hash == load_suite("reasoning").content_hash


def _question(prompt: str) -> str:
    return prompt.split("\n\n", 1)[0]


def _value(expected: str) -> Fraction:
    match = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", expected)
    if match:
        sign = -1 if match.group(1) else 1
        return sign * Fraction(int(match.group(2)), int(match.group(3)))
    return Fraction(expected)


def _ints(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"-?\d+", text)]


def _linear_side(text: str) -> tuple[int, int]:
    """``-5x + 33`` -> (-5, 33)."""
    match = re.fullmatch(r"(-?\d*)x(?: ([+-]) (\d+))?", text.strip())
    assert match, text
    coefficient = {"": 1, "-": -1}.get(match.group(1))
    a = coefficient if coefficient is not None else int(match.group(1))
    b = 0 if match.group(2) is None else int(match.group(3)) * (1 if match.group(2) == "+" else -1)
    return a, b


def check(question: str, expected: str) -> None:
    """Solve the question again, independently of the generator (sympy and plain parsing)."""
    value = _value(expected)
    if m := re.fullmatch(r"What is \$(\d+) \\times (\d+)\$\?", question):
        assert value == int(m[1]) * int(m[2])
    elif m := re.fullmatch(r"Compute \$\((\d+) \+ (\d+)\) \\times (\d+) - (\d+) \\div (\d+)\$\.", question):
        assert value == (int(m[1]) + int(m[2])) * int(m[3]) - Fraction(int(m[4]), int(m[5]))
    elif m := re.fullmatch(r"What is the sum of all integers from (\d+) to (\d+), inclusive\?", question):
        assert value == sum(range(int(m[1]), int(m[2]) + 1))
    elif m := re.fullmatch(r"Compute \$(\d+)\^2 - (\d+)\^2\$\.", question):
        assert value == int(m[1]) ** 2 - int(m[2]) ** 2
    elif m := re.fullmatch(r"What is the smallest prime number greater than (\d+)\?", question):
        assert value == sympy.nextprime(int(m[1]))
    elif m := re.fullmatch(r"What is the largest prime factor of (\d+)\?", question):
        assert value == max(sympy.factorint(int(m[1])))
    elif m := re.fullmatch(r"How many prime numbers are there between (\d+) and (\d+), inclusive\?", question):
        assert value == len(list(sympy.primerange(int(m[1]), int(m[2]) + 1)))
    elif m := re.fullmatch(r"Exactly one of the numbers ([\d, ]+) is prime\. Which one is it\?", question):
        primes = [n for n in _ints(m[1]) if sympy.isprime(n)]
        assert primes == [value]
    elif m := re.fullmatch(r"What is the remainder when \$(\d+)\^\{(\d+)\}\$ is divided by (\d+)\?", question):
        assert value == int(m[1]) ** int(m[2]) % int(m[3])
    elif m := re.fullmatch(r"What is the remainder when (\d+) is divided by (\d+)\?", question):
        assert value == int(m[1]) % int(m[2])
    elif m := re.fullmatch(
        r"Find the smallest positive integer \$x\$ such that \$(\d+)x \\equiv (\d+) \\pmod\{(\d+)\}\$\.", question
    ):
        a, b, modulus = int(m[1]), int(m[2]), int(m[3])
        assert value == min(x for x in range(1, modulus + 1) if (a * x - b) % modulus == 0)
    elif m := re.fullmatch(r"What is the units digit of \$(\d+)\^\{(\d+)\}\$\?", question):
        assert value == int(str(int(m[1]) ** int(m[2]))[-1])
    elif m := re.fullmatch(
        r"Solve for \$x\$: \$(.+) = (.+)\$\.(?: Express your answer as a common fraction\.)?", question
    ):
        x = sympy.Symbol("x")
        (a, b), (c, d) = _linear_side(m[1]), _linear_side(m[2])
        assert value == sympy.solve(a * x + b - (c * x + d), x)[0]
    elif m := re.fullmatch(r"If \$(.+)\$ and \$(.+)\$, what is the value of \$(.+)\$\?", question):
        x, y = sympy.symbols("x y")
        equations = [
            sympy.sympify(re.sub(r"(\d)\s*([xy])", r"\1*\2", e).replace("=", "-(") + ")") for e in (m[1], m[2])
        ]
        solution = sympy.solve(equations, [x, y], dict=True)[0]
        assert value == sympy.sympify(m[3].replace("xy", "x*y")).subs(solution)
    elif m := re.fullmatch(r"What is the greatest common divisor of (\d+) and (\d+)\?", question):
        assert value == math.gcd(int(m[1]), int(m[2]))
    elif m := re.fullmatch(r"What is the least common multiple of ([\d, and]+)\?", question):
        assert value == math.lcm(*_ints(m[1]))
    elif m := re.fullmatch(r"Compute \$(.+)\$\. Express your answer as a common fraction in lowest terms\.", question):
        expression = re.sub(r"\\frac\{(\d+)\}\{(\d+)\}", r"Rational(\1, \2)", m[1])
        expression = expression.replace("\\times", "*").replace("\\div", "/")
        assert value == sympy.sympify(expression)
        assert value.denominator != 1
    elif m := re.fullmatch(
        r"What is \$\\frac\{(\d+)\}\{(\d+)\}\$ of \$\\frac\{(\d+)\}\{(\d+)\}\$ of (\d+)\?", question
    ):
        assert value == Fraction(int(m[1]), int(m[2])) * Fraction(int(m[3]), int(m[4])) * int(m[5])
    elif m := re.search(
        r"buys (\d+) notebooks at \$(\d+) each and (\d+) pens at \$(\d+) each, and pays with a \$(\d+) bill", question
    ):
        a, p, b, q, bill = map(int, m.groups())
        assert value == bill - (a * p + b * q) >= 0
    elif m := re.search(r"at (\d+) km/h for (\d+) hours? and then at (\d+) km/h for (\d+) hours?", question):
        v, t1, w, t2 = map(int, m.groups())
        assert value == Fraction(v * t1 + w * t2, t1 + t2)
    elif m := re.search(
        r"is (\d+) times as old as her son\. In (\d+) years, she will be (twice|three times) as old", question
    ):
        k, years, later = int(m[1]), int(m[2]), 2 if m[3] == "twice" else 3
        son = sympy.Symbol("s")
        (age,) = sympy.solve(k * son + years - later * (son + years), son)
        assert value == k * age
    elif m := re.search(r"costs \$(\d+)\. It is discounted by (\d+)%, and then an? (\d+)% sales tax", question):
        price, discount, tax = map(int, m.groups())
        assert value == Fraction(price) * (100 - discount) / 100 * (100 + tax) / 100
    elif m := re.search(r"garden is (\d+) m long and (\d+) m wide\. A path (\d+) m wide", question):
        length, width, path = map(int, m.groups())
        assert value == (length + 2 * path) * (width + 2 * path) - length * width
    else:
        pytest.fail(f"no independent check for: {question}")


def test_every_answer_checks_out_independently() -> None:
    suite = load_suite("reasoning")
    for probe in suite.probes:
        assert probe.expected is not None
        check(_question(probe.prompt), probe.expected)


def test_checker_catches_a_wrong_answer() -> None:
    with pytest.raises(AssertionError):
        check("What is the largest prime factor of 5575?", "222")
    with pytest.raises(AssertionError):
        check(
            "Compute $\\frac{1}{3} + \\frac{2}{5} - \\frac{2}{11}$. Express your answer as a common fraction in "
            "lowest terms.",
            "\\frac{90}{165}",
        )
