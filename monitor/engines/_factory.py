"""Build an engine from its spec (inside the worker process: importing vllm or torch happens there)."""

from __future__ import annotations

from monitor.engines._protocol import Engine, EngineSpec
from monitor.errors import EngineError

__all__ = ["build_engine"]


def build_engine(spec: EngineSpec) -> Engine:
    """Instantiate the engine named by ``spec.kind`` with ``spec.options``."""
    options = dict(spec.options)
    if spec.kind == "transformers":
        from monitor.engines._transformers import TransformersEngine

        return TransformersEngine(spec.model, **options)
    if spec.kind == "vllm":
        from monitor.engines._vllm import VLLMEngine

        _check_options(VLLMEngine, "vllm", options)
        return VLLMEngine(spec.model, spec.revision, **options)
    if spec.kind == "openai":
        from monitor.engines._openai import OpenAIEngine

        _check_options(OpenAIEngine, "openai", options)
        return OpenAIEngine(spec.model, spec.revision, **options)
    raise EngineError(f"unknown engine {spec.kind!r}: use transformers, vllm or openai")


def _check_options(engine: type, kind: str, options: dict[str, object]) -> None:
    """Name an unknown option (a typo in the TOML) instead of failing with a TypeError deep in the worker."""
    import inspect

    accepted = [name for name in inspect.signature(engine).parameters if name not in ("model", "revision")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise EngineError(f"unknown {kind} engine option {unknown[0]!r}: use {', '.join(accepted)}")
