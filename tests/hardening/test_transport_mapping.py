"""The pure pieces behind the served tests: what a transport failure is called, and what a
credential looks like to the redactor."""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from aiohttp.http_exceptions import BadStatusLine

from switchyard.errors import ProviderUnavailable, Timeout, UpstreamProtocolError
from switchyard.providers.openai.settings import OpenAISettings
from switchyard.providers.transport_errors import detail, transport_error
from switchyard.redaction import MASK, Redactor, redact

KEY = ConnectionKey("10.0.0.7", 8443, True, True, None, None, None)


@pytest.mark.parametrize(
    ("exc", "cls", "words"),
    [
        (
            aiohttp.ClientConnectorError(KEY, ConnectionRefusedError(111, "refused")),
            ProviderUnavailable,
            "is unreachable (connection refused)",
        ),
        (
            aiohttp.ClientConnectorDNSError(KEY, OSError(-2, "Name or service not known")),
            ProviderUnavailable,
            "is unreachable (host name not resolved)",
        ),
        (
            aiohttp.ClientConnectorCertificateError(KEY, ssl.SSLCertVerificationError(1, "x")),
            ProviderUnavailable,
            "is unreachable (its TLS certificate is not trusted: a private authority goes in "
            "its ca_bundle)",
        ),
        (
            aiohttp.ClientConnectorSSLError(KEY, ssl.SSLError(1, "wrong version number")),
            ProviderUnavailable,
            "is unreachable (TLS handshake failed)",
        ),
        (
            aiohttp.ClientConnectorError(KEY, TimeoutError(110, "timed out")),
            ProviderUnavailable,
            "is unreachable (connect timed out)",
        ),
        (aiohttp.ConnectionTimeoutError(), Timeout, "gave no connection within timeout.connect"),
        (aiohttp.ServerDisconnectedError(), ProviderUnavailable, "closed the connection"),
        (aiohttp.ClientOSError(104, "reset"), ProviderUnavailable, "dropped the connection"),
        (aiohttp.ClientPayloadError("cut"), ProviderUnavailable, "broke off its reply"),
        (BadStatusLine("garbage"), UpstreamProtocolError, "answered with malformed HTTP"),
        (aiohttp.InvalidURL("http://x:y"), UpstreamProtocolError, "could not be called"),
        (ValueError("bad header"), UpstreamProtocolError, "could not be called"),
    ],
)
def test_transport_failures_are_named_without_their_details(
    exc: BaseException, cls: type[Exception], words: str
) -> None:
    error = transport_error(exc, "mirror")
    assert type(error) is cls and error.retryable
    assert error.message.startswith("provider 'mirror' ") and words in error.message
    assert "10.0.0.7" not in error.message and error.provider == "mirror"


def test_the_detail_for_the_log_is_one_line_with_the_class() -> None:
    assert detail(BadStatusLine("line one\n  line two")).startswith("BadStatusLine: ")
    assert "\n" not in detail(BadStatusLine("line one\n  line two"))
    assert detail(aiohttp.ServerDisconnectedError()).startswith("ServerDisconnectedError")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Authorization: Bearer abc.DEF-123_456~789", "Authorization: Bearer "),
        ("Incorrect API key provided: sk-proj-AbCdEf0123456789.", "Incorrect API key provided: "),
        ("x-api-key sk-ant-api03-0123456789abcdef", "x-api-key "),
        ("https://h/v1beta/models?key=AIzaSyA0123456789abcdefghijklmn", "https://h/v1beta/models?"),
        ('{"api_key": "0123456789abcdef0123456789abcdef"}', '{"api_key": "'),
        ("api-key: 0123456789abcdef0123", "api-key: "),
        ("token=eyJhbGciOiJIUzI1NiJ9.abcdefgh", "token="),
    ],
)
def test_credential_shaped_tokens_are_redacted(text: str, kept: str) -> None:
    redacted = redact(text)
    assert MASK in redacted and redacted.startswith(kept)


@pytest.mark.parametrize(
    "text",
    [
        "the bearer of bad news",
        "max_tokens=1024 is too large for this model",
        "model 'gpt-4o-mini' not found; key: value",
        "This model's maximum context length is 128000 tokens",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_providers_own_secrets_are_redacted_whatever_their_shape() -> None:
    settings = OpenAISettings(
        api_key="local-secret-42", headers={"x-org": "corp-token-value", "x-short": "abc"}
    )
    redactor = Redactor(settings.secrets())
    text = "bad key local-secret-42 for org corp-token-value (abc)"
    assert redactor.text(text) == f"bad key {MASK} for org {MASK} (abc)"  # "abc" is too short
    assert redactor.body(text.encode()) == redactor.text(text).encode()
    assert redactor.body(b"") == b""
