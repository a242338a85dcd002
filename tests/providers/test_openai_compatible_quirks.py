"""The presets' quirks as pure functions: request fitting and bodies, reply reading, error
remapping, URLs and headers, per preset, with payloads from each service's API reference."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from switchyard.errors import (
    InvalidRequest,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    UpstreamProtocolError,
)
from switchyard.formats.openai_chat import chunks_from_openai, response_from_openai
from switchyard.providers.openai_compatible.adapter import request_headers
from switchyard.providers.openai_compatible.json_schema import require_json
from switchyard.providers.openai_compatible.preset import Preset, Quirks
from switchyard.providers.openai_compatible.presets import PRESETS_BY_TYPE, foreign_options
from switchyard.providers.openai_compatible.reply import read_reply, remap_error
from switchyard.providers.openai_compatible.request import (
    fit_request,
    upstream_body,
    upstream_embedding_body,
)
from switchyard.providers.openai_compatible.settings import (
    AzureOpenAISettings,
    MistralSettings,
    OpenRouterSettings,
    TgiSettings,
    VllmSettings,
)
from switchyard.types import (
    ChatRequest,
    EmbeddingRequest,
    JsonSchemaFormat,
    Message,
    ResponseFormat,
    Tool,
    ToolCall,
)

WEATHER = Tool(name="get_weather", parameters={"type": "object", "properties": {}})


def preset(type_name: str) -> Preset:
    return PRESETS_BY_TYPE[type_name]


def quirks(type_name: str) -> Quirks:
    return preset(type_name).quirks


def ask(**fields: Any) -> ChatRequest:
    messages = [Message(role="system", content="Be brief."), Message(role="user", content="Hi")]
    return ChatRequest(model="m", messages=messages, **fields)


def body(type_name: str, request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
    q = quirks(type_name)
    fitted, _ = fit_request(request, q, provider=type_name, drop=False)
    return upstream_body(fitted, q, stream=stream, foreign=foreign_options(preset(type_name)))


# -- request: refusals, drops, renames ----------------------------------------------------------


def test_deepseek_refuses_what_it_cannot_do_by_name() -> None:
    with pytest.raises(InvalidRequest) as caught:
        fit_request(ask(seed=7), quirks("deepseek"), provider="ds", drop=False)
    assert caught.value.param == "seed" and "seed" in caught.value.message
    request = ask(tools=[WEATHER], tool_choice="required")
    with pytest.raises(InvalidRequest) as caught:
        fit_request(request, quirks("deepseek"), provider="ds", drop=False)
    assert caught.value.param == "tool_choice" and "tool_choice: required" in str(caught.value)


def test_drop_unsupported_drops_instead() -> None:
    request = ask(seed=7, tools=[WEATHER], tool_choice="required")
    fitted, _ = fit_request(request, quirks("deepseek"), provider="ds", drop=True)
    assert fitted.seed is None and fitted.tool_choice == "auto"
    assert request.seed == 7, "the caller's request is left as it was"


def test_mistral_spells_seed_and_required_its_own_way() -> None:
    sent = body("mistral", ask(seed=42, tools=[WEATHER], tool_choice="required"))
    assert sent["random_seed"] == 42 and "seed" not in sent
    assert sent["tool_choice"] == "any"
    assert body("groq", ask(tools=[WEATHER], tool_choice="required"))["tool_choice"] == "required"


def test_mistral_leaves_out_what_its_strict_schema_rejects() -> None:
    sent = body("mistral", ask(user="u-1", metadata={"k": "v"}, max_tokens=5), stream=True)
    assert "user" not in sent and "metadata" not in sent and "stream_options" not in sent
    assert sent["max_tokens"] == 5 and sent["stream"] is True
    with pytest.raises(InvalidRequest):
        fit_request(ask(logprobs=True), quirks("mistral"), provider="mistral", drop=False)
    assert body("deepseek", ask(), stream=True)["stream_options"] == {"include_usage": True}


def test_mistral_embeddings_use_its_names() -> None:
    request = EmbeddingRequest(model="mistral-embed", input=["a"], dimensions=256, user="u")
    sent = upstream_embedding_body(request, quirks("mistral"))
    assert sent == {"model": "mistral-embed", "input": ["a"], "output_dimension": 256}


def test_groq_drops_message_names_and_refuses_logit_bias() -> None:
    request = ask()
    request.messages[1].name = "alice"
    sent = body("groq", request)
    assert all("name" not in m for m in sent["messages"])
    assert body("together", request)["messages"][1]["name"] == "alice"
    with pytest.raises(InvalidRequest) as caught:
        fit_request(ask(extra={"logit_bias": {"1": 2}}), quirks("groq"), provider="g", drop=False)
    assert caught.value.param == "logit_bias"
    fitted, _ = fit_request(
        ask(extra={"logit_bias": {"1": 2}, "x": 1}), quirks("groq"), provider="g", drop=True
    )
    assert fitted.extra == {"x": 1}


def test_azure_sends_max_completion_tokens() -> None:
    assert body("azure_openai", ask(max_tokens=9))["max_completion_tokens"] == 9
    assert body("together", ask(max_tokens=9))["max_tokens"] == 9


def test_openrouter_options_pass_through_and_stay_with_openrouter() -> None:
    options = {
        "provider": {"order": ["anthropic", "openai"], "allow_fallbacks": False},
        "models": ["anthropic/claude-sonnet-4.5", "openai/gpt-4.1"],
        "route": "fallback",
        "transforms": ["middle-out"],
        "logit_bias": {"50256": -100},
    }
    sent = body("openrouter", ask(extra=options))
    assert {key: sent[key] for key in options} == options
    elsewhere = body("together", ask(extra=options))
    assert elsewhere["logit_bias"] == {"50256": -100}
    assert not {"provider", "models", "route", "transforms"} & set(elsewhere)


# -- request: reasoning in the history ----------------------------------------------------------


def history() -> ChatRequest:
    call = ToolCall(id="call_0", name="get_weather", arguments='{"city": "Paris"}')
    return ChatRequest(
        model="deepseek-reasoner",
        messages=[
            Message(role="user", content="Hello"),
            Message(role="assistant", content="Hi!", reasoning="Greet back."),
            Message(role="user", content="Weather in Paris?"),
            Message(role="assistant", tool_calls=[call], reasoning="I need the weather tool."),
            Message(role="tool", tool_call_id="call_0", content='{"celsius": 18}'),
        ],
        tools=[WEATHER],
    )


def test_deepseek_gets_reasoning_back_on_tool_call_turns_only() -> None:
    """DeepSeek's thinking mode requires the reasoning of a turn that called tools in later
    requests (a 400 otherwise) and ignores it elsewhere: it goes back on tool-call turns."""
    messages = body("deepseek", history())["messages"]
    assert "reasoning_content" not in messages[1]
    assert messages[3]["reasoning_content"] == "I need the weather tool."
    assert messages[3]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


@pytest.mark.parametrize("type_name", ["mistral", "openrouter", "groq", "azure_openai"])
def test_other_presets_never_send_reasoning_upstream(type_name: str) -> None:
    messages = body(type_name, history())["messages"]
    assert not any("reasoning_content" in m or "reasoning" in m for m in messages)


def test_a_history_reasoning_quirk_needs_a_field() -> None:
    with pytest.raises(ValueError, match="reasoning_field"):
        Quirks(history_reasoning="tool_turns")


# -- request: JSON schema without native support ------------------------------------------------


def schema_request() -> ChatRequest:
    schema = {"type": "object", "properties": {"capital": {"type": "string"}}}
    fmt = ResponseFormat(
        type="json_schema", json_schema=JsonSchemaFormat(name="answer", schema=schema)
    )
    return ask(response_format=fmt)


def test_deepseek_gets_the_schema_in_the_prompt_and_json_mode() -> None:
    fitted, must_be_json = fit_request(
        schema_request(), quirks("deepseek"), provider="ds", drop=False
    )
    assert must_be_json
    sent = upstream_body(fitted, quirks("deepseek"), stream=False, foreign=frozenset())
    assert sent["response_format"] == {"type": "json_object"}
    system = sent["messages"][0]["content"]
    assert system.startswith("Be brief.\n\n")
    assert '{"properties":{"capital":{"type":"string"}},"type":"object"}' in system
    assert len(sent["messages"]) == 2


def test_native_schema_support_passes_the_schema_through() -> None:
    fitted, must_be_json = fit_request(
        schema_request(), quirks("openrouter"), provider="or", drop=False
    )
    assert not must_be_json and fitted == schema_request()
    sent = upstream_body(fitted, quirks("openrouter"), stream=False, foreign=frozenset())
    assert sent["response_format"]["type"] == "json_schema"


def test_schema_instruction_becomes_the_first_message_without_a_system_prompt() -> None:
    request = schema_request().model_copy(update={"messages": [Message(role="user", content="x")]})
    fitted, _ = fit_request(request, quirks("deepseek"), provider="ds", drop=False)
    assert [m.role for m in fitted.messages] == ["system", "user"]


def test_require_json() -> None:
    require_json('{"capital": "Paris"}', "ds")
    with pytest.raises(UpstreamProtocolError):
        require_json("The capital is Paris.", "ds")


# -- reply ----------------------------------------------------------------------------------------

# api-docs.deepseek.com, reasoning model: reasoning_content beside content.
DEEPSEEK_REASONER_REPLY: dict[str, Any] = {
    "id": "b7c4e0c1-4c1e-4a0f-9a3e-7f2d8e1c2b3a",
    "object": "chat.completion",
    "created": 1737000000,
    "model": "deepseek-reasoner",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "9.8 is greater.",
                "reasoning_content": "Compare 9.11 and 9.8: 9.80 > 9.11.",
                "reasoning": "a field DeepSeek does not send; ignored when present",
            },
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 20,
        "completion_tokens": 40,
        "total_tokens": 60,
        "prompt_cache_hit_tokens": 16,
        "prompt_cache_miss_tokens": 4,
        "completion_tokens_details": {"reasoning_tokens": 30},
    },
}


def test_deepseek_reasoning_and_cache_hits_become_canonical() -> None:
    payload = copy.deepcopy(DEEPSEEK_REASONER_REPLY)
    response = response_from_openai(read_reply(payload, quirks("deepseek"), "ds"), "ds")
    assert response.message.reasoning == "Compare 9.11 and 9.8: 9.80 > 9.11."
    assert response.text == "9.8 is greater."
    usage = response.usage
    assert (usage.input_tokens, usage.cached_input_tokens) == (20, 16)
    assert (usage.output_tokens, usage.reasoning_tokens) == (40, 30)
    assert payload == DEEPSEEK_REASONER_REPLY, "the payload read is not modified"


def test_deepseek_streamed_reasoning_content() -> None:
    chunk = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "delta": {"content": None, "reasoning_content": "Hmm"},
                "finish_reason": None,
            }
        ],
    }
    [canonical] = chunks_from_openai(read_reply(chunk, quirks("deepseek"), "ds"))
    assert canonical.reasoning == "Hmm" and canonical.text is None


def test_openrouter_reasoning_field() -> None:
    chunk = {
        "id": "gen-1",
        "created": 1,
        "model": "deepseek/deepseek-r1",
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": "", "reasoning": "Think"}}
        ],
    }
    [canonical] = chunks_from_openai(read_reply(chunk, quirks("openrouter"), "or"))
    assert canonical.reasoning == "Think"


def test_groq_stream_usage_comes_from_x_groq() -> None:
    last = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "x_groq": {
            "id": "req_01",
            "usage": {
                "queue_time": 0.02,
                "prompt_tokens": 12,
                "prompt_time": 0.001,
                "completion_tokens": 5,
                "completion_time": 0.004,
                "total_tokens": 17,
                "total_time": 0.005,
            },
        },
    }
    [canonical] = chunks_from_openai(read_reply(last, quirks("groq"), "groq"))
    assert canonical.usage is not None
    assert (canonical.usage.input_tokens, canonical.usage.output_tokens) == (12, 5)


def test_mistral_model_length_is_length() -> None:
    reply = {
        "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
        "object": "chat.completion",
        "created": 1702256327,
        "model": "mistral-small-latest",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Once upon a", "tool_calls": None},
                "finish_reason": "model_length",
            }
        ],
        "usage": {"prompt_tokens": 16, "completion_tokens": 34, "total_tokens": 50},
    }
    response = response_from_openai(read_reply(reply, quirks("mistral"), "m"), "m")
    assert response.choices[0].finish_reason == "length"


def test_openrouter_200_with_an_error_beside_choices_raises_it() -> None:
    payload = {
        "id": "gen-2",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ""}}],
        "error": {"code": 502, "message": "Provider returned error", "metadata": {}},
    }
    with pytest.raises(ProviderUnavailable, match="Provider returned error"):
        read_reply(payload, quirks("openrouter"), "or")


def test_openrouter_error_in_a_choice_raises_it() -> None:
    payload = {
        "id": "gen-3",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ""},
                "finish_reason": "error",
                "error": {"code": 429, "message": "Rate limit exceeded upstream"},
            }
        ],
    }
    with pytest.raises(RateLimited, match="Rate limit exceeded upstream"):
        read_reply(payload, quirks("openrouter"), "or")


def test_out_of_credit_can_fail_over() -> None:
    error: SwitchyardError = InvalidRequest("Insufficient Balance", upstream_status=402)
    assert isinstance(remap_error(error, quirks("deepseek")), RateLimited)
    assert isinstance(remap_error(error, quirks("openrouter")), RateLimited)
    assert remap_error(error, quirks("mistral")) is error


# -- URLs and headers ----------------------------------------------------------------------------


def test_azure_urls() -> None:
    azure = preset("azure_openai")
    dated = AzureOpenAISettings(endpoint="https://res.openai.azure.com/", api_version="2024-10-21")
    assert (
        dated.api_url(azure, "/chat/completions", "gpt-4o-prod")
        == "https://res.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions"
        "?api-version=2024-10-21"
    )
    fixed = AzureOpenAISettings(endpoint="https://res.openai.azure.com", deployment="emb")
    assert fixed.api_url(azure, "/embeddings", "ignored") == (
        "https://res.openai.azure.com/openai/deployments/emb/embeddings"
        "?api-version=2024-12-01-preview"
    )
    v1 = AzureOpenAISettings(endpoint="https://res.openai.azure.com", api_version="v1")
    assert v1.api_url(azure, "/chat/completions", "gpt-4o-prod") == (
        "https://res.openai.azure.com/openai/v1/chat/completions"
    )


@pytest.mark.parametrize(
    ("api_version", "limit_field", "stream_usage"),
    [
        ("2024-12-01-preview", "max_completion_tokens", True),
        ("v1", "max_completion_tokens", True),
        ("2024-10-21", "max_tokens", False),  # GA: its spec has neither field
        ("2024-08-01-preview", "max_tokens", False),
    ],
)
def test_azure_fields_follow_the_api_version(
    api_version: str, limit_field: str, stream_usage: bool
) -> None:
    settings = AzureOpenAISettings(endpoint="https://r", api_version=api_version)
    q = settings.effective_quirks(quirks("azure_openai"))
    sent = upstream_body(ask(max_tokens=7), q, stream=True, foreign=frozenset())
    assert sent[limit_field] == 7
    assert ("stream_options" in sent) is stream_usage
    chosen = AzureOpenAISettings(
        endpoint="https://r", api_version=api_version, max_tokens_field="max_completion_tokens"
    )
    assert chosen.effective_quirks(quirks("azure_openai")).max_tokens_field == (
        "max_completion_tokens"
    ), "a configured max_tokens_field wins"


def test_azure_takes_an_endpoint_not_a_base_url() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        AzureOpenAISettings(endpoint="https://r.openai.azure.com", base_url="https://x/v1")


def test_tgi_adds_v1_to_a_server_root_once() -> None:
    tgi = preset("tgi")
    root = TgiSettings(base_url="http://10.0.0.5:8080/")
    assert (
        root.api_url(tgi, "/chat/completions", None) == "http://10.0.0.5:8080/v1/chat/completions"
    )
    given = TgiSettings(base_url="https://x.endpoints.huggingface.cloud/v1")
    assert given.api_url(tgi, "/models", None) == "https://x.endpoints.huggingface.cloud/v1/models"


def test_vllm_needs_a_base_url() -> None:
    with pytest.raises(ValueError, match="base_url"):
        VllmSettings()  # type: ignore[call-arg]


def test_headers_per_auth_style() -> None:
    azure = request_headers(
        preset("azure_openai"), AzureOpenAISettings(endpoint="https://r", api_key="az-key")
    )
    assert azure["api-key"] == "az-key" and "authorization" not in azure
    mistral = request_headers(preset("mistral"), MistralSettings(api_key="m-key"))
    assert mistral["authorization"] == "Bearer m-key" and "api-key" not in mistral
    keyless = request_headers(preset("vllm"), VllmSettings(base_url="http://h/v1"))
    assert "authorization" not in keyless


def test_openrouter_attribution_headers() -> None:
    settings = OpenRouterSettings(
        api_key="sk-or",
        http_referer="https://app.example",
        x_title="Example App",
        headers={"X-Title": "Overridden"},
    )
    headers = request_headers(preset("openrouter"), settings)
    assert headers["http-referer"] == "https://app.example"
    assert headers["x-title"] == "Overridden", "configured headers win"
    plain = request_headers(preset("openrouter"), OpenRouterSettings(api_key="sk-or"))
    assert "http-referer" not in plain and "x-title" not in plain
