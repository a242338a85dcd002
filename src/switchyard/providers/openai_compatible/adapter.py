"""The adapter every OpenAI-compatible preset shares: the ``openai`` adapter's code path
(:class:`ChatCompletionsProvider`) with a preset's URL, headers and quirks applied.

Each preset gets a provider class of its own (``DeepSeekProvider``, ...) so that its declared
capabilities are a class attribute as for every adapter; the classes are made from the preset
table by :func:`provider_class_for`, and the registry finds them by name through this module's
``__getattr__``. None of them adds code: every difference is a field of the preset.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from functools import cached_property
from typing import Any, ClassVar, cast

from switchyard.errors import SwitchyardError
from switchyard.providers.http import json_headers
from switchyard.providers.http_api import bearer
from switchyard.providers.openai.chat_completions import (
    OPERATION_PATHS,
    ChatCompletionsProvider,
    Operation,
)
from switchyard.providers.openai_compatible.json_schema import require_json
from switchyard.providers.openai_compatible.preset import Preset, Quirks
from switchyard.providers.openai_compatible.presets import PRESETS, foreign_options
from switchyard.providers.openai_compatible.reply import read_reply, remap_error
from switchyard.providers.openai_compatible.request import (
    fit_request,
    upstream_body,
    upstream_embedding_body,
)
from switchyard.providers.openai_compatible.settings import PresetSettings
from switchyard.types import ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest


class PresetProvider(ChatCompletionsProvider[PresetSettings]):
    """An OpenAI-compatible service described by :attr:`preset`."""

    preset: ClassVar[Preset]

    @cached_property
    def _quirks(self) -> Quirks:
        return self.settings.effective_quirks(self.preset.quirks)

    @cached_property
    def _foreign(self) -> frozenset[str]:
        return foreign_options(self.preset)

    # -- the preset applied to the shared code path -----------------------------------------

    def _headers(self) -> dict[str, str]:
        return request_headers(self.preset, self.settings)

    def _url(self, operation: Operation, model: str | None) -> str:
        return self.settings.api_url(self.preset, OPERATION_PATHS[operation], model)

    def _chat_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        return upstream_body(request, self._quirks, stream=stream, foreign=self._foreign)

    def _embedding_body(self, request: EmbeddingRequest) -> dict[str, Any]:
        return upstream_embedding_body(request, self._quirks)

    def _read_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        return read_reply(payload, self._quirks, self.name)

    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        return remap_error(super()._map_error(status, headers, body), self._quirks)

    def _map_error_payload(self, payload: Mapping[str, Any]) -> SwitchyardError:
        return remap_error(super()._map_error_payload(payload), self._quirks)

    # -- protocol ---------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """As the shared code path, after :func:`fit_request`; when the JSON schema was asked
        for in the prompt, an answer that is not JSON raises ``UpstreamProtocolError`` (one
        cut short by the caller's ``max_tokens``, or calling tools, is left as it is)."""
        fitted, must_be_json = self._fit(request)
        response = await super().chat(fitted)
        if must_be_json:
            for choice in response.choices:
                if not choice.message.tool_calls and choice.finish_reason != "length":
                    require_json(choice.message.text(), self.name)
        return response

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """As :meth:`chat`, streamed: the JSON check runs when the stream has ended."""
        fitted, must_be_json = self._fit(request)
        chunks = cast(AsyncGenerator[ChatChunk, None], super().stream(fitted))
        texts: dict[int, list[str]] = {}
        exempt: set[int] = set()
        try:
            async for chunk in chunks:
                if must_be_json:
                    if chunk.text:
                        texts.setdefault(chunk.index, []).append(chunk.text)
                    if chunk.tool_calls or chunk.finish_reason == "length":
                        exempt.add(chunk.index)
                yield chunk
        finally:
            await chunks.aclose()
        for index, pieces in texts.items():
            if index not in exempt:
                require_json("".join(pieces), self.name)

    def _fit(self, request: ChatRequest) -> tuple[ChatRequest, bool]:
        return fit_request(
            request, self._quirks, provider=self.name, drop=self.settings.drop_unsupported
        )


def request_headers(preset: Preset, settings: PresetSettings) -> dict[str, str]:
    """Headers of every request: JSON, the key in the preset's auth style, the preset's own
    headers, settings sent as headers, then configured ``headers`` (which win)."""
    api_key = settings.api_key_value()
    own = {"api-key": api_key or None} if preset.auth == "api-key" else bearer(api_key)
    for name, value in preset.headers.items():
        own[name.lower()] = value
    for field, header in preset.header_settings.items():
        setting = getattr(settings, field, None)
        if setting:
            own[header.lower()] = str(setting)
    return json_headers(own, settings.headers)


def provider_class_for(preset: Preset) -> type[PresetProvider]:
    """The provider class of ``preset``: :class:`PresetProvider` with its preset and its
    capabilities as class attributes."""
    namespace = {
        "preset": preset,
        "capabilities": preset.capabilities,
        "default_base_url": preset.base_url or "",
        "__module__": __name__,
        "__doc__": f"The ``{preset.type}`` preset ({preset.reference}).",
    }
    return cast(type[PresetProvider], type(preset.class_name, (PresetProvider,), namespace))


PROVIDER_CLASSES: dict[str, type[PresetProvider]] = {
    preset.class_name: provider_class_for(preset) for preset in PRESETS
}


def __getattr__(name: str) -> type[PresetProvider]:
    """``DeepSeekProvider`` and its siblings, for the registry's ``module:Class`` rows."""
    try:
        return PROVIDER_CLASSES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = ["PROVIDER_CLASSES", "PresetProvider", "provider_class_for", "request_headers"]
