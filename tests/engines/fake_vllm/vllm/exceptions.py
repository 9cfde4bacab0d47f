"""``vllm.exceptions``: the error classes the engine maps, with vLLM 0.33's hierarchy (none is a ValueError)."""

from __future__ import annotations

from typing import Any


class VLLMError(Exception):
    """Base class for all vLLM-specific errors."""


class VLLMClientError(VLLMError):
    """Errors caused by the request."""


class VLLMServerError(VLLMError):
    """Errors caused by the server."""


class VLLMValidationError(VLLMClientError):
    """A request that fails validation; ``str()`` appends the parameter and value as vLLM's does."""

    def __init__(self, message: str, *, parameter: str | None = None, value: Any = None) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.value = value

    def __str__(self) -> str:
        base = super().__str__()
        extras = []
        if self.parameter is not None:
            extras.append(f"parameter={self.parameter}")
        if self.value is not None:
            extras.append(f"value={self.value}")
        return f"{base} ({', '.join(extras)})" if extras else base


class ChatTemplateResolutionError(VLLMClientError):
    """The tokenizer defines no chat template and none was given."""
