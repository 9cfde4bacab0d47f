"""A loopback OpenAI-compatible server backed by real models through our TransformersEngine.

It speaks just enough of the API for the ``openai`` SDK: ``GET /v1/models`` and non-streaming
``POST /v1/chat/completions`` with ``n``, ``seed``, ``temperature``, ``top_p``, ``max_tokens`` and
``logprobs``/``top_logprobs`` (computed by a forward pass over prompt + completion). Fault switches make
it misbehave the way real servers do: 429 with Retry-After, 500, a slow answer, a malformed body, a
reasoning part split into ``reasoning_content``, a 400 for ``seed``. Every request is recorded.

``cache_greedy=True`` answers a repeated greedy request (temperature 0) from a process-wide cache keyed by
the engine and the request body: greedy decoding of our engine is deterministic, so the answer is the
one the model would give again, without spending the shared CPU on it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor.engines import GenerationRequest, Message, Sampling, TransformersEngine

__all__ = ["Faults", "OpenAICompatibleServer", "RecordedRequest"]

_GREEDY_CACHE: dict[tuple[int, str], dict[str, Any]] = {}


@dataclass
class Faults:
    """Switches for the next chat completions; counters count down as they fire."""

    rate_limit: int = 0  # answer 429 this many times before serving
    retry_after: str | None = "0.05"  # the Retry-After header sent with a 429 (None: no header)
    server_error: int = 0  # answer 500 this many times before serving
    delay_s: float = 0.0  # sleep this long, then answer a canned text (a slow server)
    malformed: str | None = None  # "not_json" (a truncated body) or "no_choices" (valid JSON, wrong shape)
    reasoning_field: str | None = None  # "reasoning_content" or "reasoning": also return a split reasoning part
    refuse_seed: bool = False  # answer 400 to any request that carries a seed
    drop_n: bool = False  # ignore n (return one choice), as llama.cpp and Ollama do


@dataclass(frozen=True)
class RecordedRequest:
    """What a client sent: path, Authorization header and JSON body."""

    method: str
    path: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class _State:
    models: dict[str, TransformersEngine]
    api_key: str | None
    cache_greedy: bool = False
    faults: Faults = field(default_factory=Faults)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one generation at a time: the model is shared
    faults_lock: threading.Lock = field(default_factory=threading.Lock)


class OpenAICompatibleServer:
    """Start with ``with OpenAICompatibleServer({"smollm2": engine}) as server: server.base_url``."""

    def __init__(
        self, models: dict[str, TransformersEngine], *, api_key: str | None = None, cache_greedy: bool = False
    ) -> None:
        self.state = _State(models=dict(models), api_key=api_key, cache_greedy=cache_greedy)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="openai-loopback", daemon=True)

    @property
    def base_url(self) -> str:
        """The URL to give the SDK (it ends in /v1, as real servers' do)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def faults(self) -> Faults:
        """The live fault switches."""
        return self.state.faults

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far."""
        return self.state.requests

    def chat_requests(self) -> list[RecordedRequest]:
        """The chat completion requests received so far."""
        return [r for r in self.state.requests if r.path.endswith("/chat/completions")]

    def serve(self, models: dict[str, TransformersEngine]) -> None:
        """Replace what is served (a new model behind the same id, or a different id)."""
        self.state.models = dict(models)

    def __enter__(self) -> OpenAICompatibleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            self._record({})
            if not self._authorized():
                return
            if self.path.rstrip("/") != "/v1/models":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            data = [{"id": mid, "object": "model", "created": 0, "owned_by": "loopback"} for mid in state.models]
            self._json(200, {"object": "list", "data": data})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            self._record(body)
            if not self._authorized():
                return
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            faults = state.faults
            with state.faults_lock:
                limited, failed = faults.rate_limit > 0, faults.rate_limit <= 0 and faults.server_error > 0
                faults.rate_limit -= int(limited)
                faults.server_error -= int(failed)
            if limited:
                headers = {"Retry-After": faults.retry_after} if faults.retry_after is not None else {}
                self._json(429, {"error": {"message": "slow down", "type": "rate_limit"}}, headers)
                return
            if failed:
                self._json(500, {"error": {"message": "the GPU fell over", "type": "server_error"}})
                return
            if faults.refuse_seed and "seed" in body:
                self._json(400, {"error": {"message": "Unrecognized request argument: seed", "type": "invalid"}})
                return
            if faults.delay_s:
                time.sleep(faults.delay_s)  # then a canned answer: the model need not work for a client that left
                self._json(200, _canned(str(body.get("model")), "a slow answer"))
                return
            if faults.malformed == "not_json":
                self._raw(200, b'{"id": "chatcmpl-1", "choices": [{"message": {"content": "trunc', "application/json")
                return
            if faults.malformed == "no_choices":
                self._json(200, {"id": "chatcmpl-1", "object": "chat.completion", "result": "ok"})
                return
            engine = state.models.get(str(body.get("model")))
            if engine is None:
                message = f"The model `{body.get('model')}` does not exist."
                self._json(404, {"error": {"message": message, "type": "NotFoundError"}})
                return
            key = (id(engine), json.dumps([body, faults.reasoning_field, faults.drop_n], sort_keys=True))
            cacheable = state.cache_greedy and float(body.get("temperature", 1.0)) == 0.0
            if cacheable and key in _GREEDY_CACHE:
                self._json(200, _GREEDY_CACHE[key])
                return
            with state.lock:
                answer = _complete(engine, body, str(body["model"]), faults.reasoning_field, faults.drop_n)
            if cacheable:
                _GREEDY_CACHE[key] = answer
            self._json(200, answer)

        def _record(self, body: dict[str, Any]) -> None:
            state.requests.append(RecordedRequest(self.command, self.path, self.headers.get("Authorization"), body))

        def _authorized(self) -> bool:
            if state.api_key is None or self.headers.get("Authorization") == f"Bearer {state.api_key}":
                return True
            self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_api_key"}})
            return False

        def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            self._raw(status, json.dumps(payload).encode(), "application/json", headers)

        def _raw(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

    return Handler


def _complete(
    engine: TransformersEngine, body: dict[str, Any], model_id: str, reasoning_field: str | None, drop_n: bool
) -> dict[str, Any]:
    messages = tuple(Message(role=m["role"], content=m["content"]) for m in body["messages"])
    sampling = Sampling(
        temperature=float(body.get("temperature", 1.0)),
        top_p=float(body.get("top_p", 1.0)),
        max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or 16),
    )
    n = 1 if drop_n else int(body.get("n") or 1)
    seed = int(body.get("seed") or 0)
    requests = [
        GenerationRequest(probe_id="loopback", sample_index=i, messages=messages, sampling=sampling, seed=seed + i)
        for i in range(n)
    ]
    generations = sorted(engine.generate(requests), key=lambda g: g.sample_index)
    choices = []
    for generation in generations:
        message: dict[str, Any] = {"role": "assistant", "content": generation.text}
        if reasoning_field:
            last_user = next(m.content for m in reversed(messages) if m.role == "user")
            message[reasoning_field] = f"The user asked: {last_user}"
        choice: dict[str, Any] = {"index": generation.sample_index, "message": message}
        choice["finish_reason"] = generation.finish_reason
        if body.get("logprobs"):
            top = int(body.get("top_logprobs") or 0)
            choice["logprobs"] = {"content": _logprobs(engine, requests[0], generation.text, top)}
        choices.append(choice)
    completion_tokens = sum(g.completion_tokens or 0 for g in generations)
    prompt_tokens = generations[0].prompt_tokens or 0
    return {
        "id": f"chatcmpl-{hashlib.sha256(json.dumps(body).encode()).hexdigest()[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        # What a deployment reports about itself: here, a hash of the served chat template.
        "system_fingerprint": "fp_" + hashlib.sha256(str(engine._tokenizer.chat_template).encode()).hexdigest()[:8],
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _canned(model_id: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-canned",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model_id,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
    }


def _logprobs(engine: TransformersEngine, request: GenerationRequest, text: str, top: int) -> list[dict[str, Any]]:
    """Per-token logprobs of ``text`` after the prompt: one forward pass of the served model (test helper)."""
    import torch

    tokenizer, model = engine._tokenizer, engine._model  # a test server may look inside our own engine
    prompt_ids = tokenizer(engine.prompt_text(request), add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not completion_ids:
        return []
    ids = torch.tensor([prompt_ids + completion_ids])
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    content = []
    for position, token_id in enumerate(completion_ids):
        row = logprobs[position]
        alternatives = torch.topk(row, k=top).indices.tolist() if top else []
        content.append(
            {
                "token": tokenizer.decode([token_id]),
                "logprob": float(row[token_id]),
                "bytes": list(tokenizer.decode([token_id]).encode()),
                "top_logprobs": [
                    {"token": tokenizer.decode([alt]), "logprob": float(row[alt])} for alt in alternatives
                ],
            }
        )
    return content
