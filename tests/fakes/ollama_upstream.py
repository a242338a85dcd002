"""A fake Ollama server on 127.0.0.1 for tests: Ollama's native wire format, scripted per test.

Payload builders follow ``docs/api.md`` of Ollama's repository ("Generate a chat completion":
the streamed, non-streamed, tools, structured outputs and images examples; ``/api/embed``,
``/api/tags``, ``/api/version``), ``docs/api/errors.mdx`` (``{"error": ...}``, also as a line in
the middle of a stream) and ``api/types.go`` (``ToolCall.id``, ``ToolCallFunction.index``).
With nothing scripted, chat echoes the last user message (streamed unless ``stream: false``,
which is Ollama's own default).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import embedding_for
from tests.fakes.upstream import FakeUpstream, RecordedRequest, Reply, word_pieces

MODEL = "llama3.2"
CREATED_AT = "2025-07-07T20:22:19.184789Z"


def line(
    message: dict[str, Any] | None = None, *, model: str = MODEL, created_at: str = CREATED_AT
) -> dict[str, Any]:
    """A stream line that is not the last (``done: false``)."""
    return {
        "model": model,
        "created_at": created_at,
        "message": {"role": "assistant", "content": "", **(message or {})},
        "done": False,
    }


def done_line(
    message: dict[str, Any] | None = None,
    *,
    reason: str = "stop",
    prompt_tokens: int = 26,
    output_tokens: int = 18,
    model: str = MODEL,
) -> dict[str, Any]:
    """The last line of a stream, or a whole non-streamed reply."""
    return {
        **line(message, model=model),
        "done_reason": reason,
        "done": True,
        "total_duration": 4883583458,
        "load_duration": 1334875,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": 342546000,
        "eval_count": output_tokens,
        "eval_duration": 4535599000,
    }


def tool_call(
    name: str, arguments: dict[str, Any], *, index: int = 0, call_id: str | None = None
) -> dict[str, Any]:
    call: dict[str, Any] = {"function": {"index": index, "name": name, "arguments": arguments}}
    if call_id is not None:
        call = {"id": call_id, **call}
    return call


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"error": message}, status, headers=headers)


def embed_reply(vectors: list[list[float]], model: str = "all-minilm") -> dict[str, Any]:
    return {
        "model": model,
        "embeddings": vectors,
        "total_duration": 14143917,
        "load_duration": 1019500,
        "prompt_eval_count": 8,
    }


def tags_reply(names: list[str]) -> dict[str, Any]:
    return {
        "models": [
            {
                "name": name,
                "model": name,
                "modified_at": "2024-12-10T17:03:23.427735Z",
                "size": 2019393189,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "llama",
                    "families": ["llama"],
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            }
            for name in names
        ]
    }


class OllamaUpstream(FakeUpstream):
    """Answers like Ollama when nothing is scripted; ``base_url`` is the host root."""

    def _default(self, request: web.Request, body: Any) -> Reply:
        body = body if isinstance(body, dict) else {}
        path, method = request.path, request.method
        if path == "/api/chat" and method == "POST":
            text = last_user_text(body.get("messages"))
            model = str(body.get("model", MODEL))
            if body.get("stream") is False:
                return Reply.json(done_line({"content": text}, model=model))
            lines = [line({"content": piece}, model=model) for piece in word_pieces(text)]
            return Reply.lines([*lines, done_line(model=model)])
        if path == "/api/embed" and method == "POST":
            raw = body.get("input") or []
            texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
            return Reply.json(embed_reply([embedding_for(t) for t in texts]))
        if path == "/api/tags" and method == "GET":
            return Reply.json(tags_reply([f"{MODEL}:latest", "all-minilm:latest"]))
        if path == "/api/version" and method == "GET":
            return Reply.json({"version": "0.12.10"})
        return error_reply(404, "404 page not found")


def last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


__all__ = ["OllamaUpstream", "RecordedRequest", "Reply"]
