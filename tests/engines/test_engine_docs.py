"""Docs that cannot rot: every option of the vllm and openai engines is documented, under its own name."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from monitor.engines import OpenAIEngine, VLLMEngine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("engine", [VLLMEngine, OpenAIEngine])
def test_every_engine_option_is_documented(engine: type) -> None:
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "README.md", ROOT / "docs/engines.md") if p.is_file()
    )
    options = [name for name in inspect.signature(engine).parameters if name not in ("model", "revision")]
    first_cells = [line.split("|")[1] for line in text.splitlines() if line.startswith("|") and line.count("|") > 2]
    undocumented = [name for name in options if not any(f"`{name}`" in cell for cell in first_cells)]
    assert not undocumented, f"{engine.__name__} options missing from the docs' option tables: {undocumented}"
