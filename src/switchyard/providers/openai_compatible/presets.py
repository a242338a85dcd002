"""The table of OpenAI-compatible services: one :class:`Preset` row each.

Each row follows the service's API reference (``reference``); a quirk is listed only where the
service departs from OpenAI's chat-completions API (see :class:`Quirks` for what each means).
Capabilities are the service's, not every model's: the gateway refuses by name what a row
declares False (DeepSeek takes no images), and leaves per-model limits to the upstream.
"""

from __future__ import annotations

from switchyard.errors import RateLimited
from switchyard.providers.base import Capabilities, ProviderSettings
from switchyard.providers.openai_compatible.preset import Preset, Quirks
from switchyard.providers.openai_compatible.settings import (
    AzureOpenAISettings,
    DeepSeekSettings,
    GroqSettings,
    HuggingFaceSettings,
    MistralSettings,
    OpenRouterSettings,
    TgiSettings,
    TogetherSettings,
    VllmSettings,
)

# Out of credit (402): like OpenAI's insufficient_quota 429, another deployment may still serve.
_QUOTA = {402: RateLimited}

PRESETS: tuple[Preset, ...] = (
    Preset(
        settings=OpenRouterSettings,
        base_url="https://openrouter.ai/api/v1",
        reference="https://openrouter.ai/docs/api/reference/overview (errors, streaming), "
        "https://openrouter.ai/docs/features/multimodal/pdfs",
        capabilities=Capabilities(
            tools=True, vision=True, documents=True, json_mode=True, list_models=True
        ),
        header_settings={"http_referer": "HTTP-Referer", "x_title": "X-Title"},
        quirks=Quirks(
            reasoning_field="reasoning",
            extra_options=frozenset({"provider", "models", "route", "transforms"}),
            errors_in_body=True,
            error_statuses=_QUOTA,
        ),
    ),
    Preset(
        settings=DeepSeekSettings,
        base_url="https://api.deepseek.com",
        reference="https://api-docs.deepseek.com/api/create-chat-completion, "
        "https://api-docs.deepseek.com/guides/thinking_mode",
        capabilities=Capabilities(tools=True, json_mode=True, list_models=True),
        quirks=Quirks(
            reasoning_field="reasoning_content",
            history_reasoning="tool_turns",
            tool_choice_required=None,  # refused by its thinking (reasoner, v4) models
            json_schema=False,  # json_object only
            unsupported_params=frozenset({"seed"}),
            cached_tokens_field="prompt_cache_hit_tokens",
            finish_reasons={"insufficient_system_resource": "error"},  # cut short upstream
            error_statuses=_QUOTA,
        ),
    ),
    Preset(
        settings=MistralSettings,
        base_url="https://api.mistral.ai/v1",
        reference="https://docs.mistral.ai/api/ (chat completions, embeddings)",
        capabilities=Capabilities(
            tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
        ),
        quirks=Quirks(
            tool_choice_required="any",  # its native name; newer deployments accept both
            renamed_params={"seed": "random_seed", "dimensions": "output_dimension"},
            unsupported_params=frozenset({"logprobs", "top_logprobs"}),
            ignored_params=frozenset({"user", "metadata"}),  # unknown keys are a 422 there
            stream_usage_option=False,  # idem; usage comes on the last chunk anyway
            finish_reasons={"model_length": "length"},
        ),
    ),
    Preset(
        settings=GroqSettings,
        base_url="https://api.groq.com/openai/v1",
        reference="https://console.groq.com/docs/openai, https://console.groq.com/docs/api-reference",
        capabilities=Capabilities(tools=True, vision=True, json_mode=True, list_models=True),
        quirks=Quirks(
            unsupported_params=frozenset({"logprobs", "top_logprobs", "logit_bias"}),
            message_names=False,  # messages[].name is a 400 there
            reasoning_field="reasoning",  # reasoning_format: parsed
            stream_usage_field="x_groq",
        ),
    ),
    Preset(
        settings=TogetherSettings,
        base_url="https://api.together.xyz/v1",
        reference="https://docs.together.ai/reference/chat-completions-1",
        capabilities=Capabilities(
            tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
        ),
    ),
    Preset(
        settings=AzureOpenAISettings,
        base_url=None,  # built from endpoint and api_version
        reference="https://learn.microsoft.com/azure/ai-foundry/openai/reference, "
        "https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle",
        capabilities=Capabilities(tools=True, vision=True, json_mode=True, embeddings=True),
        auth="api-key",
        quirks=Quirks(max_tokens_field="max_completion_tokens"),  # its o-series reject max_tokens
    ),
    Preset(
        settings=VllmSettings,
        base_url=None,
        reference="https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
        capabilities=Capabilities(
            tools=True, vision=True, json_mode=True, embeddings=True, list_models=True
        ),
    ),
    Preset(
        settings=HuggingFaceSettings,
        base_url="https://router.huggingface.co/v1",
        reference="https://huggingface.co/docs/inference-providers/tasks/chat-completion",
        capabilities=Capabilities(tools=True, vision=True, json_mode=True, list_models=True),
    ),
    Preset(
        settings=TgiSettings,
        base_url=None,
        reference="https://huggingface.co/docs/text-generation-inference/messages_api",
        capabilities=Capabilities(tools=True, vision=True, list_models=True),
        api_prefix="/v1",
    ),
)

PRESETS_BY_TYPE: dict[str, Preset] = {preset.type: preset for preset in PRESETS}

# The registry's rows: config type -> (settings model, "module:ProviderClass").
PRESET_ADAPTERS: dict[str, tuple[type[ProviderSettings], str]] = {
    preset.type: (
        preset.settings,
        f"switchyard.providers.openai_compatible.adapter:{preset.class_name}",
    )
    for preset in PRESETS
}


def foreign_options(preset: Preset) -> frozenset[str]:
    """Provider-specific options other presets declare and ``preset`` does not."""
    others = frozenset().union(*(p.quirks.extra_options for p in PRESETS if p is not preset))
    return others - preset.quirks.extra_options


__all__ = ["PRESETS", "PRESETS_BY_TYPE", "PRESET_ADAPTERS", "foreign_options"]
