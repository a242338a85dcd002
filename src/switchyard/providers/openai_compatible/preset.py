"""What an OpenAI-compatible service is, as data: a :class:`Preset` and its :class:`Quirks`.

A preset says where the service lives and how it authenticates; its quirks say where it departs
from OpenAI's chat-completions API. The shared adapter reads these fields and nothing else, so a
service's behaviour is never an ``if provider == ...`` branch: it is a row in
:mod:`~switchyard.providers.openai_compatible.presets`. Every default is OpenAI's behaviour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from switchyard.errors import SwitchyardError
from switchyard.formats.openai_chat import MaxTokensField
from switchyard.providers.base import Capabilities, ProviderSettings

AuthStyle = Literal["bearer", "api-key"]
HistoryReasoning = Literal["omit", "tool_turns"]


@dataclass(frozen=True, slots=True)
class Quirks:
    """Where a service departs from OpenAI's chat-completions API.

    Request side:

    - ``max_tokens_field``: the body key of the output-token limit.
    - ``tool_choice_required``: the wire value meaning "call a tool" (Mistral: ``any``); None when
      the service cannot force a tool call: ``tool_choice: required`` is then refused by name.
    - ``json_schema``: the service honours ``response_format: json_schema``. When False the
      schema is asked for in the system prompt with ``json_object`` mode, and a reply that does
      not parse as JSON is an ``UpstreamProtocolError``.
    - ``renamed_params``: OpenAI body keys this service spells differently (``seed`` ->
      ``random_seed``), in chat and embedding bodies alike.
    - ``unsupported_params``: request fields (canonical, or keys of ``extra``) the service
      rejects: refused by name, or dropped under ``drop_unsupported``.
    - ``ignored_params``: fields the service rejects that do not change the answer (``user``,
      ``metadata``): left out silently.
    - ``stream_usage_option``: send ``stream_options.include_usage`` (a service that rejects
      unknown keys and reports usage on its own gets False).
    - ``message_names``: the service accepts ``messages[].name``; if not, names are left out.
    - ``reasoning_field``: where the service puts reasoning text in messages and deltas (read
      as the canonical ``reasoning``; other reasoning keys are then ignored).
    - ``history_reasoning``: ``tool_turns`` sends the canonical reasoning of assistant turns
      that called tools back in ``reasoning_field`` (DeepSeek's thinking mode requires it);
      ``omit`` never sends reasoning upstream.
    - ``extra_options``: provider-specific body keys taken from the request's ``extra``; a key
      another preset declares and this one does not is left out, so a request that carries
      one service's options can fail over to another.

    Reply side:

    - ``cached_tokens_field``: a usage key counting cache hits when the service does not fill
      ``prompt_tokens_details.cached_tokens`` (DeepSeek: ``prompt_cache_hit_tokens``).
    - ``stream_usage_field``: an object on stream chunks that carries ``usage`` (Groq:
      ``x_groq``).
    - ``finish_reasons``: the service's own finish reasons onto OpenAI's.
    - ``errors_in_body``: a 200 reply may carry ``error`` beside ``choices`` or in a choice
      (OpenRouter); it is raised as the error it describes.
    - ``error_statuses``: statuses that mean something finer here than in OpenAI's table.
    """

    max_tokens_field: MaxTokensField = "max_tokens"
    tool_choice_required: str | None = "required"
    json_schema: bool = True
    renamed_params: Mapping[str, str] = field(default_factory=dict)
    unsupported_params: frozenset[str] = frozenset()
    ignored_params: frozenset[str] = frozenset()
    stream_usage_option: bool = True
    message_names: bool = True
    reasoning_field: str | None = None
    history_reasoning: HistoryReasoning = "omit"
    extra_options: frozenset[str] = frozenset()
    cached_tokens_field: str | None = None
    stream_usage_field: str | None = None
    finish_reasons: Mapping[str, str] = field(default_factory=dict)
    errors_in_body: bool = False
    error_statuses: Mapping[int, type[SwitchyardError]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.history_reasoning != "omit" and self.reasoning_field is None:
            raise ValueError("history_reasoning needs reasoning_field: where to send it")


@dataclass(frozen=True, slots=True)
class Preset:
    """One OpenAI-compatible service.

    ``settings`` is its config model (its ``type`` literal names the preset); ``base_url`` the
    default API base, version path included (None: the config must give ``base_url``);
    ``api_prefix`` a path added to a ``base_url`` that lacks it (TGI's ``/v1``, so the server
    root works too); ``auth`` how the key is sent (``Authorization: Bearer`` or ``api-key``);
    ``headers`` sent with every request; ``header_settings`` settings fields sent as headers
    when set (``http_referer`` -> ``HTTP-Referer``); ``reference`` the API documentation the
    quirks follow.
    """

    settings: type[ProviderSettings]  # a PresetSettings subclass
    base_url: str | None
    reference: str
    capabilities: Capabilities
    quirks: Quirks = field(default_factory=Quirks)
    auth: AuthStyle = "bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    header_settings: Mapping[str, str] = field(default_factory=dict)
    api_prefix: str = ""

    @property
    def type(self) -> str:
        """The config ``type`` (the settings model's literal)."""
        default = self.settings.model_fields["type"].default
        assert isinstance(default, str), f"{self.settings.__name__}.type needs a default"
        return default

    @property
    def class_name(self) -> str:
        """The provider class's name, from the settings model's (``DeepSeekSettings`` ->
        ``DeepSeekProvider``)."""
        return self.settings.__name__.removesuffix("Settings") + "Provider"


__all__ = ["AuthStyle", "HistoryReasoning", "Preset", "Quirks"]
