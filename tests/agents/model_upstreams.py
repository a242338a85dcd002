"""Fake upstreams that act like a model (:mod:`tests.agents.scripted_model`) in each wire format
an agent's request can reach the gateway's upstream in: Anthropic Messages, OpenAI chat
completions, Gemini ``generateContent`` and OpenAI Responses, each plain and streamed.

Each class reads a request into a :class:`Seen` (the tools on offer, the tool results so far)
and writes the :class:`Answer` as its API would, using the payload builders of the format's
existing fake (``tests/fakes``) where there is one. Every request is still recorded, so a test
can say what reached the upstream.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from typing import Any

from aiohttp import web

from tests.agents.scripted_model import Answer, Script, Seen, Tool
from tests.fakes import anthropic_upstream as anthropic
from tests.fakes import gemini_upstream as gemini
from tests.fakes import responses_upstream as responses
from tests.fakes.anthropic_upstream import AnthropicUpstream
from tests.fakes.gemini_upstream import GeminiUpstream
from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.responses_upstream import ResponsesUpstream
from tests.fakes.upstream import FakeUpstream, Reply, word_pieces


def _text_of(content: Any) -> str:
    """The text inside a tool result, however its format nests it."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text_of(item) for item in content)
    if isinstance(content, dict):
        for key in ("text", "output", "content", "result", "llmContent"):
            if key in content:
                return _text_of(content[key])
        return json.dumps(content)
    return "" if content is None else str(content)


def _arguments(answer: Answer) -> str:
    assert answer.call is not None
    return json.dumps(answer.call.arguments)


class ModelUpstream(FakeUpstream, ABC):
    """The shared part: a :class:`Script`, a counter for ids, and :meth:`seen`, the reading
    of a request body in the subclass's format."""

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.model_script = script
        self._ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"

    @staticmethod
    @abstractmethod
    def seen(body: dict[str, Any]) -> Seen:
        """What ``body``, a request in this upstream's format, shows the model."""


# -- Anthropic Messages ---------------------------------------------------------------------


class AnthropicModel(ModelUpstream, AnthropicUpstream):
    @staticmethod
    def seen(body: dict[str, Any]) -> Seen:
        return anthropic_seen(body)

    def _default(self, request: web.Request, body: Any) -> Reply:
        if request.method != "POST" or not request.path.startswith("/v1/messages"):
            return AnthropicUpstream._default(self, request, body)
        if request.path.endswith("/count_tokens"):
            return Reply.json({"input_tokens": 42})
        answer = self.model_script.answer(self.seen(body))
        return self._reply(
            answer, str(body.get("model", anthropic.MODEL)), bool(body.get("stream"))
        )

    def _reply(self, answer: Answer, model: str, stream: bool) -> Reply:
        message_id = self.next_id("msg_agent")
        if answer.call is not None:
            block = anthropic.tool_use_block(
                self.next_id("toolu_agent"), answer.call.name, answer.call.arguments
            )
            stop = "tool_use"
        else:
            block = anthropic.text_block(answer.text)
            stop = "end_turn"
        if not stream:
            return Reply.json(
                anthropic.message([block], id=message_id, model=model, stop_reason=stop)
            )
        if answer.call is not None:
            opened = {**block, "input": {}}
            deltas = [anthropic.json_delta(0, _arguments(answer))]
        else:
            opened = anthropic.text_block("")
            deltas = [anthropic.text_delta(0, piece) for piece in word_pieces(answer.text)]
        return anthropic.stream_reply(
            [
                anthropic.message_start(id=message_id, model=model),
                anthropic.block_start(0, opened),
                *deltas,
                anthropic.block_stop(0),
                anthropic.message_delta(stop, 12),
                anthropic.message_stop(),
            ]
        )


def anthropic_seen(body: dict[str, Any]) -> Seen:
    tools = [
        Tool(tool["name"], tool.get("input_schema") or {})
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and "name" in tool
    ]
    results = [
        _text_of(block.get("content"))
        for message in body.get("messages") or []
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    return Seen(tools, results)


# -- OpenAI chat completions ----------------------------------------------------------------


class ChatCompletionsModel(ModelUpstream, OpenAIUpstream):
    @staticmethod
    def seen(body: dict[str, Any]) -> Seen:
        return chat_seen(body)

    def _default(self, request: web.Request, body: Any) -> Reply:
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return OpenAIUpstream._default(self, request, body)
        answer = self.model_script.answer(self.seen(body))
        model = str(body.get("model", "gpt-4o-mini"))
        completion_id = self.next_id("chatcmpl-agent")
        message: dict[str, Any] = {"role": "assistant", "content": answer.text or None}
        finish = "stop"
        if answer.call is not None:
            message["tool_calls"] = [
                {
                    "id": self.next_id("call_agent"),
                    "type": "function",
                    "function": {"name": answer.call.name, "arguments": _arguments(answer)},
                }
            ]
            finish = "tool_calls"
        usage = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}
        envelope = {"id": completion_id, "created": 1755137933, "model": model}
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return Reply.json(
                {**envelope, "object": "chat.completion", "choices": [choice], "usage": usage}
            )

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            return {**envelope, "object": "chat.completion.chunk", "choices": [choice]}

        events = [chunk({"role": "assistant", "content": ""})]
        if answer.call is not None:
            events.append(chunk({"tool_calls": [{"index": 0, **message["tool_calls"][0]}]}))
        events += [chunk({"content": piece}) for piece in word_pieces(answer.text)]
        events.append(chunk({}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                {**envelope, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            )
        return Reply.stream(events)


def chat_seen(body: dict[str, Any]) -> Seen:
    tools = [
        Tool(tool["function"]["name"], tool["function"].get("parameters") or {})
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
    ]
    results = [
        _text_of(message.get("content"))
        for message in body.get("messages") or []
        if isinstance(message, dict) and message.get("role") == "tool"
    ]
    return Seen(tools, results)


# -- Gemini generateContent -----------------------------------------------------------------


class GeminiModel(ModelUpstream, GeminiUpstream):
    @staticmethod
    def seen(body: dict[str, Any]) -> Seen:
        return gemini_seen(body)

    def _default(self, request: web.Request, body: Any) -> Reply:
        path = request.path
        generating = path.endswith(":generateContent") or path.endswith(":streamGenerateContent")
        if request.method != "POST" or not generating:
            return GeminiUpstream._default(self, request, body)
        answer = self.model_script.answer(self.seen(body))
        usage = gemini.usage_metadata(40, 12)
        if answer.call is not None:
            call = gemini.function_call(answer.call.name, answer.call.arguments)
            parts = [call]
        else:
            parts = [{"text": answer.text}]
        if not path.endswith(":streamGenerateContent"):
            return Reply.json(gemini.response(parts, "STOP", usage))
        if answer.call is not None:
            return gemini.sse([gemini.response(parts, "STOP", usage)])
        pieces = word_pieces(answer.text)
        events = [gemini.response([{"text": piece}], None) for piece in pieces[:-1]]
        events.append(gemini.response([{"text": pieces[-1]}], "STOP", usage))
        return gemini.sse(events)


def gemini_seen(body: dict[str, Any]) -> Seen:
    tools = [
        Tool(
            declaration["name"],
            declaration.get("parametersJsonSchema") or declaration.get("parameters") or {},
        )
        for tool in body.get("tools") or []
        for declaration in (tool.get("functionDeclarations") or [])
        if isinstance(declaration, dict) and "name" in declaration
    ]
    results = [
        _text_of(part["functionResponse"].get("response"))
        for content in body.get("contents") or []
        for part in content.get("parts") or []
        if isinstance(part, dict) and isinstance(part.get("functionResponse"), dict)
    ]
    return Seen(tools, results)


# -- OpenAI Responses -----------------------------------------------------------------------


class ResponsesModel(ModelUpstream, ResponsesUpstream):
    """``POST /v1/responses``, with the Responses fake's builders."""

    @staticmethod
    def seen(body: dict[str, Any]) -> Seen:
        return responses_seen(body)

    def _default(self, request: web.Request, body: Any) -> Reply:
        if request.method != "POST" or not request.path.endswith("/responses"):
            return ResponsesUpstream._default(self, request, body)
        body = body if isinstance(body, dict) else {}
        answer = self.model_script.answer(self.seen(body))
        model = str(body.get("model", responses.MODEL))
        response_id = self.next_id("resp_agent")
        used = responses.usage(40, 12)
        if answer.call is not None:
            item = responses.function_call_item(
                self.next_id("call_agent"),
                answer.call.name,
                _arguments(answer),
                id=self.next_id("fc_agent"),
            )
            events = responses.call_events(item, 0, [item["arguments"]])
        else:
            item = responses.message_item(answer.text, id=self.next_id("msg_agent"))
            events = responses.message_events(answer.text, 0, item["id"])
        if not body.get("stream"):
            return Reply.json(responses.response([item], id=response_id, model=model, usage=used))
        return responses.stream_reply(
            [
                *responses.started(response_id, model),
                *events,
                responses.completed(response_id, [item], used, model),
            ]
        )


def responses_seen(body: dict[str, Any]) -> Seen:
    tools = [
        Tool(tool["name"], tool.get("parameters") or {})
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and tool.get("type") == "function" and "name" in tool
    ]
    items = body.get("input")
    results = [
        _text_of(item.get("output"))
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]
    return Seen(tools, results)


UPSTREAMS: dict[str, type[ModelUpstream]] = {
    "anthropic": AnthropicModel,
    "chat": ChatCompletionsModel,
    "gemini": GeminiModel,
    "responses": ResponsesModel,
}

__all__ = [
    "UPSTREAMS",
    "AnthropicModel",
    "ChatCompletionsModel",
    "GeminiModel",
    "ModelUpstream",
    "ResponsesModel",
    "anthropic_seen",
    "chat_seen",
    "gemini_seen",
    "responses_seen",
]
