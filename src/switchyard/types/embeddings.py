"""Canonical embedding types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchyard.types.chat import ServedBy
from switchyard.types.usage import Cost, Usage

# What the embeddings are for (Gemini's ``taskType``, Cohere's ``input_type``): a model that
# knows tunes its vectors to it; the others ignore it.
EmbeddingTask = Literal[
    "query",  # a search query (retrieval)
    "document",  # a document to be searched
    "similarity",
    "classification",
    "clustering",
    "question_answering",  # a question whose answer is searched for
    "fact_verification",  # a statement whose evidence is searched for
    "code_query",  # a natural-language query for code
]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    input: list[str]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = None
    task: EmbeddingTask | None = None
    # one per input (None: untitled): a document's title, which Gemini uses with "document"
    titles: list[str | None] | None = None

    @model_validator(mode="after")
    def _one_title_per_input(self) -> EmbeddingRequest:
        if self.titles is not None and len(self.titles) != len(self.input):
            raise ValueError("titles must have one entry per input")
        return self


class EmbeddingResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    provider: str = ""
    data: list[list[float]]
    usage: Usage = Field(default_factory=Usage)
    cost: Cost | None = None
    served_by: ServedBy | None = None


__all__ = ["EmbeddingRequest", "EmbeddingResponse", "EmbeddingTask"]
