"""Engines turn generation requests into text: transformers (CPU/CUDA), vllm and OpenAI-compatible servers."""

from monitor.engines._batching import pack_by_length
from monitor.engines._factory import build_engine
from monitor.engines._fingerprint import (
    FINGERPRINT_PROMPTS,
    Fingerprint,
    FingerprintDiff,
    FingerprintEntry,
    compare_fingerprints,
    take_fingerprint,
)
from monitor.engines._hardware import available_memory_bytes, cpu_has_native_bf16, native_dtype
from monitor.engines._openai import OpenAIEngine, ScoredGeneration, TokenLogprob
from monitor.engines._protocol import (
    Engine,
    EngineSpec,
    FinishReason,
    Generation,
    GenerationRequest,
    Message,
    Sampling,
    request_seed,
)
from monitor.engines._transformers import TransformersEngine
from monitor.engines._vllm import VLLMEngine

__all__ = [
    "FINGERPRINT_PROMPTS",
    "Engine",
    "EngineSpec",
    "Fingerprint",
    "FingerprintDiff",
    "FingerprintEntry",
    "FinishReason",
    "Generation",
    "GenerationRequest",
    "Message",
    "OpenAIEngine",
    "Sampling",
    "ScoredGeneration",
    "TokenLogprob",
    "TransformersEngine",
    "VLLMEngine",
    "available_memory_bytes",
    "build_engine",
    "compare_fingerprints",
    "cpu_has_native_bf16",
    "native_dtype",
    "pack_by_length",
    "request_seed",
    "take_fingerprint",
]
