"""The ``openai`` engine: any OpenAI-compatible chat server (vllm serve, llama.cpp, Ollama, TGI, SGLang).

A served model is a black box: no weights, no commit. What we control is how we ask: the exact sampling,
a per-request seed where the server honours it, and a patient, bounded client. Transient failures (429
with its Retry-After, 5xx, timeouts, dropped connections) are retried with exponential backoff; anything
else, and a transient failure that outlives the retries, raises ``EngineError`` so the run stops and a
later cycle resumes it (responses already stored are kept). Responses are parsed by hand from the raw
body, so a malformed one is named as such instead of surfacing as an attribute error.

The API key is read from the environment variable named by ``api_key_env`` and handed to the SDK only:
it is never stored, logged or put into an error message.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from monitor.engines._batching import group_samples as _grouped
from monitor.engines._protocol import FinishReason, Generation, GenerationRequest
from monitor.errors import EngineError

__all__ = ["OpenAIEngine", "ScoredGeneration", "TokenLogprob"]

_STOP_REASONS = frozenset({"stop", "eos", "end_turn", "stop_sequence", "tool_calls", "function_call"})
_LENGTH_REASONS = frozenset({"length", "max_tokens", "model_length"})
_REASONING_FIELDS = ("reasoning_content", "reasoning")
_NO_KEY = "EMPTY"  # what vLLM's docs pass when the server was started without --api-key


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token with its log probability and the server's top alternatives."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ScoredGeneration:
    """A generation with per-token logprobs (None when the server does not return them)."""

    generation: Generation
    tokens: tuple[TokenLogprob, ...] | None
    system_fingerprint: str | None = None


class _Transient(Exception):
    """A failure worth retrying; carries the server's Retry-After, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIEngine:
    """Chat completions against an OpenAI-compatible server, with bounded concurrency and retries."""

    kind = "openai"

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        *,
        base_url: str,
        served_model: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 4,
        timeout_s: float = 600.0,
        max_retries: int = 4,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        check_model: bool = True,
        group_samples: bool = False,
        send_seed: bool = True,
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens",
        extra_body: dict[str, Any] | None = None,
        batch_size: int | None = None,
    ) -> None:
        """Connect to ``base_url`` (e.g. ``http://gpu-host:8000/v1``) and check it serves the model.

        ``model`` is the watched name; ``served_model`` the id the server knows (defaults to ``model``).
        ``revision`` and ``batch_size`` are accepted for the engine factory's uniform call and unused: an
        endpoint has no revision, and concurrency, not batching, bounds the load we put on it.
        """
        try:
            import openai
        except ImportError:  # pragma: no cover - openai is a core dependency
            raise EngineError("the openai engine needs the openai SDK: pip install openai") from None
        if concurrency < 1:
            raise EngineError(f"engine option concurrency = {concurrency}: use 1 or more")
        if max_retries < 0:
            raise EngineError(f"engine option max_retries = {max_retries}: use 0 or more")
        if timeout_s <= 0:
            raise EngineError(f"engine option timeout_s = {timeout_s}: use a positive number of seconds")
        self._openai = openai
        self._base_url = base_url.rstrip("/")
        self._served_model = served_model or model
        self._api_key_env = api_key_env
        self._concurrency = concurrency
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._group_samples = group_samples
        self._send_seed = send_seed
        self._seed_lock = threading.Lock()
        self._max_tokens_param = max_tokens_param
        self._extra_body = dict(extra_body or {})
        self._client = openai.OpenAI(
            base_url=self._base_url,
            api_key=os.environ.get(api_key_env) or _NO_KEY,
            timeout=timeout_s,
            max_retries=0,  # our own loop below: it honours Retry-After and says what it gave up on
        )
        self._version = f"openai-sdk {openai.__version__}"
        self._served_ids: list[str] | None = None
        if check_model:
            self._check_model()

    @property
    def version(self) -> str:
        """The SDK version; an endpoint does not say what it runs (its fingerprint does)."""
        return self._version

    @property
    def device(self) -> str:
        """Where the model runs, as far as we can tell: the endpoint URL."""
        return f"endpoint: {self._base_url}"

    @property
    def served_model(self) -> str:
        """The model id sent with every request."""
        return self._served_model

    @property
    def served_ids(self) -> list[str] | None:
        """The model ids ``/v1/models`` listed (None when the check was skipped)."""
        return self._served_ids

    def _check_model(self) -> None:
        """Fail fast, naming what the server does serve, when it does not serve our model id."""
        ids: list[str] = self._with_retries(self._list_models, what="GET /models")
        self._served_ids = ids
        if self._served_model not in ids:
            served = ", ".join(repr(i) for i in ids) or "nothing"
            raise EngineError(
                f"{self._base_url} does not serve model {self._served_model!r}; it serves {served} "
                "(set engine option served_model to one of them)"
            )

    def _list_models(self) -> list[str]:
        raw = self._call(lambda: self._client.models.with_raw_response.list())
        body = _json_body(raw, what="GET /models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not all(isinstance(item, dict) and "id" in item for item in data):
            raise EngineError(f"{self._base_url}/models returned a malformed body (no data[].id): {_clip(body)}")
        return [str(item["id"]) for item in data]

    def generate(self, requests: Sequence[GenerationRequest]) -> Iterator[Generation]:
        """Generate every request, ``concurrency`` at a time; yields each as it completes."""
        for scored in self._run(requests, top_logprobs=None):
            yield scored.generation

    def generate_scored(
        self, requests: Sequence[GenerationRequest], *, top_logprobs: int = 5
    ) -> Iterator[ScoredGeneration]:
        """Like ``generate``, also asking for per-token logprobs (for fingerprints); None where unsupported."""
        return self._run(requests, top_logprobs=top_logprobs)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # -- internals -------------------------------------------------------------------------------------

    def _run(self, requests: Sequence[GenerationRequest], *, top_logprobs: int | None) -> Iterator[ScoredGeneration]:
        groups = _grouped(requests) if self._group_samples else [[request] for request in requests]
        executor = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="openai-engine")
        try:
            pending: set[Future[list[ScoredGeneration]]] = {
                executor.submit(self._complete_group, group, top_logprobs) for group in groups
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()  # re-raises the EngineError of a failed request
        finally:
            executor.shutdown(wait=True, cancel_futures=True)

    def _complete_group(self, group: list[GenerationRequest], top_logprobs: int | None) -> list[ScoredGeneration]:
        """One request with ``n = len(group)``; if the server returns fewer choices, ask for the rest one by one."""
        first = group[0]
        results = self._with_retries(
            lambda: self._chat(first, n=len(group), top_logprobs=top_logprobs),
            what=f"probe {first.probe_id!r}",
        )
        out: list[ScoredGeneration] = []
        for request, (choice, latency, usage, fingerprint) in zip(group, results, strict=False):
            out.append(_scored(request, choice, latency, usage, fingerprint, n=len(results)))
        for request in group[len(results) :]:
            ((choice, latency, usage, fingerprint),) = self._with_retries(
                lambda request=request: self._chat(request, n=1, top_logprobs=top_logprobs)[:1],
                what=f"probe {request.probe_id!r}",
            )
            out.append(_scored(request, choice, latency, usage, fingerprint, n=1))
        return out

    def _chat(
        self, request: GenerationRequest, *, n: int, top_logprobs: int | None
    ) -> list[tuple[dict[str, Any], float, dict[str, Any], str | None]]:
        """One chat completion; returns its choices (as dicts), the latency, usage and system fingerprint."""
        params: dict[str, Any] = {
            "model": self._served_model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.sampling.temperature,
            "top_p": request.sampling.top_p,
            self._max_tokens_param: request.sampling.max_tokens,
        }
        if n > 1:
            params["n"] = n
        with self._seed_lock:
            send_seed = self._send_seed
        if send_seed:
            params["seed"] = request.seed
        if top_logprobs is not None:
            params["logprobs"] = True
            params["top_logprobs"] = top_logprobs
        if self._extra_body:
            params["extra_body"] = self._extra_body
        started = time.perf_counter()
        try:
            raw = self._call(lambda: self._client.chat.completions.with_raw_response.create(**params), seed=send_seed)
        except _SeedRefused:
            with self._seed_lock:
                self._send_seed = False  # the server said it does not take a seed: stop sending one
            raise _Transient("the server refused the seed parameter; retrying without it", retry_after=0.0) from None
        latency = time.perf_counter() - started
        body = _json_body(raw, what="POST /chat/completions")
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not choices:
            raise EngineError(
                f"{self._base_url}/chat/completions returned a malformed body (no choices): {_clip(body)}"
            )
        for choice in choices:
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict) or not isinstance(message.get("content", ""), str | None):
                raise EngineError(
                    f"{self._base_url}/chat/completions returned a malformed choice (no message.content): "
                    f"{_clip(choice)}"
                )
        choices = sorted(choices, key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        fingerprint = body.get("system_fingerprint")
        return [(choice, latency, usage, fingerprint if isinstance(fingerprint, str) else None) for choice in choices]

    def _call(self, send: Any, *, seed: bool = False) -> Any:
        """Send one HTTP request through the SDK, sorting its exceptions into transient and final.

        ``seed``: the request carried a seed, so a 400 about it means "this server takes no seed".
        """
        openai = self._openai
        try:
            return send()
        except openai.RateLimitError as exc:
            raise _Transient("429 rate limited", _retry_after(exc.response.headers)) from None
        except openai.InternalServerError as exc:
            raise _Transient(f"{exc.status_code} server error", _retry_after(exc.response.headers)) from None
        except openai.APITimeoutError:
            raise _Transient("timed out") from None
        except openai.APIConnectionError as exc:
            raise _Transient(f"connection failed ({_cause(exc)})") from None
        except openai.AuthenticationError:
            raise EngineError(
                f"{self._base_url} refused the API key (401): set the environment variable {self._api_key_env}"
            ) from None
        except openai.BadRequestError as exc:
            if seed and "seed" in str(exc.message).lower():
                raise _SeedRefused() from None
            raise EngineError(f"{self._base_url} rejected the request (400): {_clip(exc.message)}") from None
        except openai.NotFoundError as exc:
            raise EngineError(
                f"{self._base_url} answered 404 ({_clip(exc.message)}): is base_url right (it usually ends in /v1)?"
            ) from None
        except openai.APIStatusError as exc:
            raise EngineError(f"{self._base_url} answered {exc.status_code}: {_clip(exc.message)}") from None

    def _with_retries(self, attempt: Any, *, what: str) -> Any:
        """Run ``attempt`` until it succeeds, retrying transient failures with backoff; then EngineError."""
        for number in range(self._max_retries + 1):
            try:
                return attempt()
            except _Transient as exc:
                if number == self._max_retries:
                    raise EngineError(
                        f"{self._base_url}: {what} failed after {number + 1} attempts, last: {exc} "
                        "(raise engine option max_retries or timeout_s, or check the server)"
                    ) from None
                time.sleep(self._delay(number, exc.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._backoff_max_s)
        backoff = min(self._backoff_max_s, self._backoff_base_s * 2.0**attempt)
        return backoff * (0.75 + 0.25 * random.random())  # a little jitter so parallel retries spread out


class _SeedRefused(Exception):
    """The server answered 400 about the ``seed`` parameter."""


def _scored(
    request: GenerationRequest,
    choice: dict[str, Any],
    latency: float,
    usage: dict[str, Any],
    fingerprint: str | None,
    *,
    n: int,
) -> ScoredGeneration:
    message = choice["message"]
    reasoning = next((message[f] for f in _REASONING_FIELDS if isinstance(message.get(f), str) and message[f]), None)
    completion_tokens = _int(usage.get("completion_tokens")) if n == 1 else None
    tokens = _token_logprobs(choice.get("logprobs"))
    if completion_tokens is None and tokens is not None:
        completion_tokens = len(tokens)
    generation = Generation(
        probe_id=request.probe_id,
        sample_index=request.sample_index,
        text=message.get("content") or "",
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=completion_tokens,
        finish_reason=_finish_reason(choice.get("finish_reason")),
        latency_s=latency,
        reasoning=reasoning,
    )
    return ScoredGeneration(generation=generation, tokens=tokens, system_fingerprint=fingerprint)


def _token_logprobs(logprobs: Any) -> tuple[TokenLogprob, ...] | None:
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return None
    tokens: list[TokenLogprob] = []
    for item in content:
        if not isinstance(item, dict) or not isinstance(item.get("logprob"), int | float):
            return None
        top = tuple(
            (str(alt.get("token")), float(alt["logprob"]))
            for alt in item.get("top_logprobs") or []
            if isinstance(alt, dict) and isinstance(alt.get("logprob"), int | float)
        )
        tokens.append(TokenLogprob(token=str(item.get("token", "")), logprob=float(item["logprob"]), top=top))
    return tuple(tokens)


def _finish_reason(value: Any) -> FinishReason:
    if value in _STOP_REASONS:
        return "stop"
    if value in _LENGTH_REASONS:
        return "length"
    return "error"


def _json_body(raw: Any, *, what: str) -> Any:
    try:
        return json.loads(raw.text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EngineError(f"{what} returned a malformed body (not JSON): {_clip(raw.text)}") from None


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def _clip(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
