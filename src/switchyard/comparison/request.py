"""What a comparison is asked with, and what it answers: the typed request and result.

The request's fields are those the assessment services already send to ``POST
/api/v1/comparison``; the library's :meth:`~switchyard.gateway.Gateway.compare` takes the same.
Every text is bounded here (the essays again, more tightly, by ``comparison.max_essay_chars``),
and an invalid field is a 400 that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from switchyard.comparison.answer import Winner
from switchyard.errors import InvalidRequest
from switchyard.types import Cost, Usage

MAX_USER_PROMPT = 20_000  # characters
MAX_ESSAY = 1_000_000  # characters: the absolute cap; comparison.max_essay_chars is the real one
MAX_CORRELATION_ID = 128  # as long as a request id may be


class ComparisonRequest(BaseModel):
    """``user_prompt``: the task (and any marking criteria) the two essays answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_prompt: str = Field(min_length=1, max_length=MAX_USER_PROMPT)
    essay_a: str = Field(min_length=1, max_length=MAX_ESSAY)
    essay_b: str = Field(min_length=1, max_length=MAX_ESSAY)
    provider: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="a configured provider's name: with model_override, provider/model; "
        "alone, the comparison model's deployment at that provider",
    )
    model_override: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="an alias or provider/model instead of comparison.model",
    )
    temperature_override: float | None = Field(
        default=None,
        ge=0,
        le=2,
        allow_inf_nan=False,
        description="instead of comparison.temperature",
    )
    correlation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CORRELATION_ID,
        description="the caller's id for this work: echoed, and the request id of every "
        "model call made for it (usage rows, events)",
    )

    @field_validator("user_prompt", "essay_a", "essay_b")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("provider", "model_override", "correlation_id")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("must not contain control or other non-printable characters")
        return value


def parse_comparison(
    request: ComparisonRequest | Mapping[str, Any] | None = None, fields: Mapping[str, Any] = {}
) -> ComparisonRequest:
    """A validated request from a request, a mapping (a JSON body) and/or keyword fields;
    400 naming the first field at fault."""
    if isinstance(request, ComparisonRequest) and not fields:
        return request
    data = request.model_dump() if isinstance(request, ComparisonRequest) else dict(request or {})
    data.update(fields)
    try:
        return ComparisonRequest.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        param = ".".join(str(part) for part in error["loc"]) or None
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidRequest(f"{param or 'body'}: {message}", param=param) from None


@dataclass(frozen=True, slots=True)
class ComparisonResult:
    """The verdict, who gave it and what it took. ``usage`` and ``cost`` add up every model
    call made (retries and both orders included; ``cost`` None when any call was unpriced);
    ``position_consistent`` is None unless both orders were judged."""

    winner: Winner
    justification: str
    confidence: float
    provider: str
    model: str
    usage: Usage
    cost: Cost | None
    latency_ms: float
    correlation_id: str
    calls: int
    position_consistent: bool | None = None


__all__ = [
    "MAX_CORRELATION_ID",
    "MAX_ESSAY",
    "MAX_USER_PROMPT",
    "ComparisonRequest",
    "ComparisonResult",
    "parse_comparison",
]
