"""The library's public surface is what `switchyard/__init__.py` exports, and nothing drifts."""

import switchyard

EXPECTED = {
    "AuthenticationError",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatStream",
    "Choice",
    "ConfigError",
    "ContentFiltered",
    "ContentPolicyViolation",
    "ContextLengthExceeded",
    "Cost",
    "DeadlineExceeded",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "FilePart",
    "Gateway",
    "ImagePart",
    "InvalidRequest",
    "Message",
    "ModelNotFound",
    "NoHealthyDeployment",
    "PayloadTooLarge",
    "PermissionDenied",
    "ProviderUnavailable",
    "RateLimited",
    "ResponseFormat",
    "ServedBy",
    "SwitchyardConfig",
    "SwitchyardError",
    "SyncGateway",
    "SyncStream",
    "TextPart",
    "Timeout",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "UpstreamAuthenticationError",
    "UpstreamProtocolError",
    "Usage",
    "__version__",
    "connect",
    "load_config",
}


def test_exported_names_are_pinned() -> None:
    assert set(switchyard.__all__) == EXPECTED


def test_every_exported_name_exists() -> None:
    for name in switchyard.__all__:
        assert hasattr(switchyard, name), name


def test_errors_share_one_base() -> None:
    for name in switchyard.__all__:
        value = getattr(switchyard, name)
        if isinstance(value, type) and issubclass(value, Exception) and name != "ConfigError":
            assert issubclass(value, switchyard.SwitchyardError), name
