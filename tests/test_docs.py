"""Docs that cannot rot: the README's CLI section and every setting and config key are current."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from monitor.cli._reference import END, START, cli_reference
from monitor.config import MonitorConfig, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_cli_section_matches_the_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split(START, 1)[1].split(END, 1)[0].lstrip("\n")
    assert section == cli_reference(), "README is stale: run python -m monitor.cli._reference --write"


def test_every_environment_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"DRIFT_MONITOR_{name.upper()}" in text, name


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = typing.get_args(annotation)
        inner = args[0] if typing.get_origin(annotation) is list and args else annotation
        dotted = f"{prefix}{name}"
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            suffix = "[]." if typing.get_origin(annotation) is list else "."
            keys.extend(_keys(inner, dotted + suffix))
        else:
            keys.append(dotted)
    return keys


def test_every_config_key_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    keys = _keys(MonitorConfig)
    assert "models[].engine.kind" in keys and "alerts.backoff_max_s" in keys
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing, f"undocumented config keys: {missing}"
