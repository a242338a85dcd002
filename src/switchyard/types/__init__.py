"""Canonical types (the hub): front doors and providers translate to and from these."""

from switchyard.types.chat import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Choice,
    ContentPart,
    FinishReason,
    ImagePart,
    JsonSchemaFormat,
    Message,
    NamedToolChoice,
    ResponseFormat,
    Role,
    TextPart,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolChoice,
)
from switchyard.types.embeddings import EmbeddingRequest, EmbeddingResponse
from switchyard.types.usage import Cost, Prices, Usage

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "Choice",
    "ContentPart",
    "Cost",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "FinishReason",
    "ImagePart",
    "JsonSchemaFormat",
    "Message",
    "NamedToolChoice",
    "Prices",
    "ResponseFormat",
    "Role",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolChoice",
    "Usage",
]
