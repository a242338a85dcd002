"""The pure GenAI mapping and the on/off switch: no OpenTelemetry involved."""

from __future__ import annotations

from switchyard.config.schema import TelemetrySettings
from switchyard.telemetry import genai, tracing_enabled
from switchyard.types import ChatRequest, ChatResponse, Choice, EmbeddingRequest, Message, Usage

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def test_traceparent_is_parsed_as_the_w3c_spec_says() -> None:
    parsed = genai.parse_traceparent(f"00-{TRACE}-{PARENT}-01")
    assert parsed == genai.ParentContext(int(TRACE, 16), int(PARENT, 16), 1)
    assert genai.format_traceparent(*parsed) == f"00-{TRACE}-{PARENT}-01"
    # a future version may carry more fields; version 00 may not
    assert genai.parse_traceparent(f"01-{TRACE}-{PARENT}-00-extra") is not None
    for bad in (
        None,
        "",
        f"00-{TRACE}-{PARENT}-01-extra",
        f"ff-{TRACE}-{PARENT}-01",
        f"00-{'0' * 32}-{PARENT}-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE.upper()}-{PARENT}-01",
        f"00-{TRACE}-{PARENT}",
        "x" * 600,
    ):
        assert genai.parse_traceparent(bad) is None, bad


def test_request_and_response_attributes_use_the_genai_names() -> None:
    request = ChatRequest(
        model="smart",
        messages=[Message(role="user", content="hi")],
        max_tokens=64,
        temperature=0.2,
        top_p=0.9,
    )
    assert genai.request_attributes("stream", request) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "smart",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
    }
    embedding = EmbeddingRequest(model="vectors", input=["a"])
    assert genai.request_attributes("embed", embedding)["gen_ai.operation.name"] == "embeddings"
    response = ChatResponse(
        id="chatcmpl-1",
        created=0,
        model="gpt-4o-mini-2024-07-18",
        choices=[Choice(message=Message(role="assistant", content="yo"), finish_reason="length")],
        usage=Usage(input_tokens=7, output_tokens=3),
    )
    assert genai.response_attributes(response) == {
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.id": "chatcmpl-1",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.response.finish_reasons": ["length"],
    }


def test_provider_names_follow_the_conventions() -> None:
    assert genai.provider_name("openai") == "openai"
    assert genai.provider_name("anthropic") == "anthropic"
    assert genai.provider_name("gemini") == "gcp.gemini"
    assert genai.provider_name("azure_openai") == "azure.ai.openai"
    assert genai.provider_name("mistral") == "mistral_ai"


def test_content_is_the_conventions_json_and_capped() -> None:
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="system", content="be brief"),
            Message(role="user", content="hello"),
        ],
    )
    assert genai.input_messages(request) == (
        '[{"role":"system","parts":[{"type":"text","content":"be brief"}]},'
        '{"role":"user","parts":[{"type":"text","content":"hello"}]}]'
    )
    huge = ChatRequest(model="m", messages=[Message(role="user", content="x" * 100_000)])
    text = genai.input_messages(huge)
    assert len(text) <= genai.MAX_CONTENT_CHARS + 20 and text.endswith("[truncated]")
    assert genai.output_messages(["ok"], ["stop"]) == (
        '[{"role":"assistant","parts":[{"type":"text","content":"ok"}],"finish_reason":"stop"}]'
    )


def test_tracing_is_off_unless_asked() -> None:
    off, on = TelemetrySettings(), TelemetrySettings(otel=True)
    assert not tracing_enabled(off, {})
    assert tracing_enabled(on, {})
    assert tracing_enabled(off, {"OTEL_SDK_DISABLED": "false"})
    assert tracing_enabled(off, {"OTEL_SDK_DISABLED": " False "})
    assert not tracing_enabled(on, {"OTEL_SDK_DISABLED": "true"})
    assert not tracing_enabled(off, {"OTEL_SDK_DISABLED": "yes"})
