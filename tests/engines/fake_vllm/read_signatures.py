"""Read the signature table the fake vLLM is checked against from an unpacked vLLM wheel, without running it.

The table (``vllm_signatures.json`` beside this file) records, for the vLLM version the fake models, every
parameter of the calls the engine makes, the fields of the outputs it reads, the checks of
``SamplingParams`` it relies on and the exception classes it maps. It is parsed with ``ast`` from the
wheel's source, so nothing of vLLM is imported or executed (it needs a GPU stack). To move the fake to a
new vLLM release::

    pip download vllm==X.Y.Z --no-deps -d /tmp/vllm-wheel
    unzip -q /tmp/vllm-wheel/vllm-*.whl 'vllm/*' -d /tmp/vllm-wheel/src
    python -m tests.engines.fake_vllm.read_signatures /tmp/vllm-wheel/src

then run ``tests/engines/test_fake_vllm.py`` and bring the fake in line with every difference it names.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("vllm_signatures.json")
_EXCEPTIONS = ("VLLMError", "VLLMClientError", "VLLMServerError", "VLLMValidationError", "ChatTemplateResolutionError")


def _class(tree: ast.Module, name: str) -> ast.ClassDef:
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)


def _method(cls: ast.ClassDef, name: str) -> ast.FunctionDef:
    return next(node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == name)


def _parameters(function: ast.FunctionDef) -> list[list[Any]]:
    """[name, kind, default source or None] for every parameter but ``self``, as inspect names kinds."""
    args = function.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    rows: list[list[Any]] = []
    for arg, default in zip(positional, defaults, strict=True):
        if arg.arg != "self":
            rows.append([arg.arg, "POSITIONAL_OR_KEYWORD", None if default is None else ast.unparse(default)])
    if args.vararg:
        rows.append([args.vararg.arg, "VAR_POSITIONAL", None])
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        rows.append([arg.arg, "KEYWORD_ONLY", None if kw_default is None else ast.unparse(kw_default)])
    if args.kwarg:
        rows.append([args.kwarg.arg, "VAR_KEYWORD", None])
    return rows


def _fields(cls: ast.ClassDef) -> list[list[Any]]:
    """[name, default source or None] for each public annotated field of a dataclass or msgspec struct."""
    rows = []
    for node in cls.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and not node.target.id.startswith("_"):
            rows.append([node.target.id, None if node.value is None else ast.unparse(node.value)])
    return rows


def read(source: Path) -> dict[str, Any]:
    """The table for the vLLM whose unpacked package is ``source / 'vllm'``."""
    package = source / "vllm"
    parse = lambda relative: ast.parse((package / relative).read_text())  # noqa: E731
    version_text = (package / "_version.py").read_text()
    version = version_text.split("__version__ = version = ", 1)[1].split("\n", 1)[0].strip("'\"")
    llm = _class(parse("entrypoints/llm.py"), "LLM")
    sampling = parse("sampling_params.py")
    outputs = parse("outputs.py")
    exceptions = parse("exceptions.py")
    arg_utils = _class(parse("engine/arg_utils.py"), "EngineArgs")
    loaders = parse("model_executor/model_loader/__init__.py")
    load_formats = next(
        node.value
        for node in loaders.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LoadFormats" for t in node.targets)
    )
    constants = {
        target.id: ast.literal_eval(node.value)
        for node in sampling.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in ("_SAMPLING_EPS", "_MAX_TEMP")
    }
    return {
        "vllm_version": version,
        "read_on": dt.datetime.now(dt.UTC).date().isoformat(),
        "source": "the vllm wheel's source, parsed with ast (tests/engines/fake_vllm/read_signatures.py)",
        "LLM.__init__": _parameters(_method(llm, "__init__")),
        "LLM.chat": _parameters(_method(llm, "chat")),
        "LLM.get_tokenizer": _parameters(_method(llm, "get_tokenizer")),
        "EngineArgs fields": [row[0] for row in _fields(arg_utils)],
        "SamplingParams fields": _fields(_class(sampling, "SamplingParams")),
        "SamplingParams constants": constants,
        "CompletionOutput fields": _fields(_class(outputs, "CompletionOutput")),
        "RequestOutput.__init__": _parameters(_method(_class(outputs, "RequestOutput"), "__init__")),
        "load formats": [item.value for item in ast.walk(load_formats) if isinstance(item, ast.Constant)],
        "exceptions": {name: [ast.unparse(base) for base in _class(exceptions, name).bases] for name in _EXCEPTIONS},
    }


def main() -> None:
    """Write the table for the wheel unpacked at the given folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding the unpacked vllm/ package")
    table = read(parser.parse_args().source)
    lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in table.items()]
    TABLE.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one entry a line: diffs name what changed
    print(f"wrote {TABLE} for vllm {table['vllm_version']}")


if __name__ == "__main__":
    main()
