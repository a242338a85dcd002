"""A feature a provider cannot serve is refused by name, or dropped when configured."""

from typing import ClassVar

import pytest
from tests.fakes.documents import PDF_DATA_URL, PDF_URL

from switchyard import Gateway, InvalidRequest
from switchyard.providers.base import Capabilities
from switchyard.providers.capabilities import fit_request, missing_capabilities
from switchyard.providers.fake import FakeProvider, FakeSettings
from switchyard.types import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    Tool,
)

PLAIN = Capabilities(tools=False, vision=False, json_mode=False)
IMAGE = ImagePart(url="https://example.com/cat.png")


def request(model: str = "m") -> ChatRequest:
    content: list[TextPart | ImagePart] = [TextPart(text="look"), IMAGE]
    return ChatRequest(
        model=model,
        messages=[Message(role="user", content=content)],
        tools=[Tool(name="f")],
        tool_choice="required",
        response_format=ResponseFormat(type="json_object"),
    )


def test_missing_capabilities_are_named() -> None:
    assert missing_capabilities(request(), PLAIN) == ["tools", "vision", "json_mode"]
    assert (
        missing_capabilities(request(), Capabilities(tools=True, vision=True, json_mode=True)) == []
    )


def test_unsupported_feature_is_a_400_naming_it_and_the_provider() -> None:
    with pytest.raises(InvalidRequest) as caught:
        fit_request(request(), PLAIN, provider="tiny", drop=False)
    assert "tiny" in str(caught.value) and "tools" in str(caught.value)
    assert caught.value.param == "tools"


def test_drop_unsupported_removes_the_features() -> None:
    fitted = fit_request(request(), PLAIN, provider="tiny", drop=True)
    assert fitted.tools is None and fitted.tool_choice is None and fitted.response_format is None
    assert fitted.messages[0].content == [TextPart(text="look")]
    assert missing_capabilities(fitted, PLAIN) == []


class TextOnly(FakeProvider):
    capabilities: ClassVar[Capabilities] = PLAIN


async def test_gateway_refuses_or_drops_per_provider_setting() -> None:
    config = {
        "providers": {"t": {"type": "fake", "reply": "ok"}},
        "models": [{"name": "m", "deployments": [{"provider": "t", "model": "x"}]}],
    }
    strict = Gateway.from_config(config, providers={"t": TextOnly("t", FakeSettings(reply="ok"))})
    with pytest.raises(InvalidRequest):
        await strict.chat(request(model="m"))
    lenient_provider = TextOnly("t", FakeSettings(reply="ok", drop_unsupported=True))
    lenient = Gateway.from_config(config, providers={"t": lenient_provider})
    assert (await lenient.chat(request(model="m"))).text == "ok"
    assert lenient_provider.requests[0].tools is None


async def test_streams_are_fitted_to_the_provider_too() -> None:
    config = {
        "providers": {"t": {"type": "fake", "reply": "ok"}},
        "models": [{"name": "m", "deployments": [{"provider": "t", "model": "x"}]}],
    }
    lenient_provider = TextOnly("t", FakeSettings(reply="ok", drop_unsupported=True))
    lenient = Gateway.from_config(config, providers={"t": lenient_provider})
    text = "".join([c.text or "" async for c in lenient.stream(request(model="m"))])
    assert text == "ok"
    sent = lenient_provider.requests[0]
    assert sent.tools is None and sent.response_format is None and sent.model == "x"


# -- documents ------------------------------------------------------------------------------

PDF = FilePart(url=PDF_DATA_URL, mime_type="application/pdf", filename="q3.pdf")


def with_document(part: FilePart = PDF, model: str = "m") -> ChatRequest:
    content: list[TextPart | FilePart] = [TextPart(text="Summarize."), part]
    return ChatRequest(model=model, messages=[Message(role="user", content=content)])


def test_documents_are_a_capability_refused_or_dropped() -> None:
    assert missing_capabilities(with_document(), PLAIN) == ["documents"]
    assert missing_capabilities(with_document(), Capabilities(documents=True)) == []
    with pytest.raises(InvalidRequest) as caught:
        fit_request(with_document(), PLAIN, provider="tiny", drop=False)
    assert "documents" in str(caught.value) and caught.value.param == "messages"
    fitted = fit_request(with_document(), PLAIN, provider="tiny", drop=True)
    assert fitted.messages[0].content == [TextPart(text="Summarize.")]


class DocumentsByData(FakeProvider):
    """Takes documents, but not by URL (as OpenAI's chat completions)."""

    def takes_document_urls(self) -> bool:
        return False


def document_gateway(*order: str) -> Gateway:
    providers = {
        "plain": TextOnly("plain", FakeSettings(reply="plain")),
        "data": DocumentsByData("data", FakeSettings(reply="data")),
        "any": FakeProvider("any", FakeSettings(reply="any")),
    }
    config = {
        "providers": {name: {"type": "fake"} for name in providers},
        "models": [
            {"name": "m", "deployments": [{"provider": p, "model": "x"} for p in order]},
        ],
    }
    return Gateway.from_config(config, providers=providers)


async def test_routing_skips_deployments_that_cannot_take_the_document() -> None:
    gateway = document_gateway("plain", "data", "any")
    assert (await gateway.chat(with_document(model="m"))).text == "data"
    by_url = with_document(FilePart(url=PDF_URL, mime_type="application/pdf"), model="m")
    assert (await gateway.chat(by_url)).text == "any"


async def test_when_no_deployment_takes_the_document_the_400_names_it() -> None:
    with pytest.raises(InvalidRequest) as caught:
        await document_gateway("plain").chat(with_document(model="m"))
    assert caught.value.status_code == 400
    assert "plain/x does not accept documents (messages[0].content[1], application/pdf)" in str(
        caught.value
    )
    by_url = with_document(FilePart(url=PDF_URL, mime_type="application/pdf"), model="m")
    with pytest.raises(InvalidRequest, match="takes documents only as data, not by URL"):
        await document_gateway("plain", "data").chat(by_url)
