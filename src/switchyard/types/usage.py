"""Token usage and its price."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict

USD_PLACES = Decimal("1e-10")  # what the ledger keeps: NUMERIC(18, 10)


class Usage(BaseModel):
    """Tokens of one response. ``cached_input_tokens`` (read from the provider's prompt
    cache) and ``cache_write_input_tokens`` (written to it: Anthropic's
    ``cache_creation_input_tokens``) are part of ``input_tokens``; ``reasoning_tokens`` are part
    of ``output_tokens`` (OpenAI's accounting)."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_input_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cache_write_input_tokens=self.cache_write_input_tokens + other.cache_write_input_tokens,
        )


class Cost(BaseModel):
    """US dollars, from the catalog's (or the deployment's) per-million-token prices."""

    model_config = ConfigDict(extra="forbid")

    input: float = 0.0
    output: float = 0.0
    total: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            input=self.input + other.input,
            output=self.output + other.output,
            total=self.total + other.total,
        )

    @property
    def exact_total(self) -> Decimal:
        """``total`` as the decimal the usage ledger stores and the answers carry."""
        return exact_usd(self.total)


def exact_usd(amount: float) -> Decimal:
    """A float amount of USD as an exact decimal, to 10 places: the float's shortest repr
    (``0.114``, not the binary ``0.11400000000000000577...``), so a cost worked out by hand from
    the prices is what the ledger, the header and the summary show."""
    return Decimal(repr(amount)).quantize(USD_PLACES)


def usd_text(amount: Decimal) -> str:
    """A decimal amount as plain text: no exponent, no trailing zeros (``0.0000123``)."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class Prices(BaseModel):
    """USD per million tokens (``per_image``: USD per image)."""

    model_config = ConfigDict(extra="forbid")

    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    per_image: float | None = None

    def cost(self, usage: Usage) -> Cost:
        cached = min(usage.cached_input_tokens, usage.input_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        input_cost = ((usage.input_tokens - cached) * self.input + cached * cached_price) / 1e6
        output_cost = usage.output_tokens * self.output / 1e6
        return Cost(input=input_cost, output=output_cost, total=input_cost + output_cost)


__all__ = ["USD_PLACES", "Cost", "Prices", "Usage", "exact_usd", "usd_text"]
