"""The README's CLI section, generated from the commands themselves so it cannot rot.

``python -m monitor.cli._reference --write`` rewrites the section between the markers in README.md; a
test fails when the committed section differs from what the commands say about themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"

__all__ = ["END", "START", "cli_reference", "replace_section"]


def cli_reference() -> str:
    """Markdown: one entry per command, with its usage, first help line and options."""
    from monitor.cli import app

    root = typer.main.get_command(app)
    lines: list[str] = []
    _walk(root, ["drift-monitor"], lines)
    return "\n".join(lines).rstrip() + "\n"


def _walk(command: Any, path: list[str], lines: list[str]) -> None:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name in sorted(subcommands):
            if not getattr(subcommands[name], "hidden", False):  # an alias kept for old scripts
                _walk(subcommands[name], [*path, name], lines)
        return
    ctx = command.make_context(" ".join(path), ["--help"], resilient_parsing=True)
    usage = " ".join(command.collect_usage_pieces(ctx))
    summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    lines.append(f"**`{' '.join(path)} {usage}`**  ")
    lines.append(f"{summary}")
    lines.append("")
    for param in command.params:
        if param.name == "help" or getattr(param, "hidden", False):
            continue
        names = ", ".join(f"`{opt}`" for opt in [*param.opts, *getattr(param, "secondary_opts", [])])
        if param.param_type_name == "argument":
            names = f"`{param.name.upper()}`"
        text = (getattr(param, "help", None) or "").replace("\n", " ")
        default = getattr(param, "default", None)
        shown = f" (default: `{default}`)" if default not in (None, False, (), []) and not callable(default) else ""
        lines.append(f"- {names}: {text}{shown}")
    lines.append("")


def replace_section(readme: str, section: str) -> str:
    """README text with the generated section put between the markers."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{section}{END}{tail}"


if __name__ == "__main__":
    readme_path = Path(__file__).resolve().parents[2] / "README.md"
    updated = replace_section(readme_path.read_text(encoding="utf-8"), cli_reference())
    if "--write" in sys.argv:
        readme_path.write_text(updated, encoding="utf-8")
    else:
        sys.stdout.write(cli_reference())
