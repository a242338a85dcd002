"""Switchyard: one library and one HTTP service in front of every model provider.

The public surface is what this module exports (pinned by ``tests/test_public_api.py``)::

    from switchyard import Gateway

    async with Gateway.from_config("switchyard.yaml") as gateway:
        response = await gateway.chat(model="smart", messages=[{"role": "user", "content": "hi"}])
        answer = await gateway.complete("What is 2+2?")

    with switchyard.connect() as gw:             # the same, synchronously (scripts, notebooks)
        print(gw.complete("What is 2+2?").text)
"""

from switchyard.chat_stream import ChatStream
from switchyard.config.load import load_config
from switchyard.config.schema import SwitchyardConfig
from switchyard.errors import (
    AuthenticationError,
    ConfigError,
    ContentFiltered,
    ContentPolicyViolation,
    ContextLengthExceeded,
    DeadlineExceeded,
    InvalidRequest,
    ModelNotFound,
    NoHealthyDeployment,
    PayloadTooLarge,
    PermissionDenied,
    ProviderUnavailable,
    RateLimited,
    SwitchyardError,
    Timeout,
    UpstreamAuthenticationError,
    UpstreamProtocolError,
)
from switchyard.gateway import Gateway
from switchyard.sync import SyncGateway, SyncStream, connect
from switchyard.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    Cost,
    EmbeddingRequest,
    EmbeddingResponse,
    FilePart,
    ImagePart,
    Message,
    ResponseFormat,
    ServedBy,
    TextPart,
    Tool,
    ToolCall,
    ToolCallDelta,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
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
]
