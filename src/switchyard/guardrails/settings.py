"""``guardrails:`` on a model alias and on a tenant: a list of checks, compiled once.

Each entry is ``{type, on, action, name?, ...}``; its pattern, word list or schema is compiled
when the config (or an admin API tenant) is validated, so a mistake is a start-up error naming
the field (``models[0].guardrails[1].pattern: ...``) and a request only runs compiled code.

What may be combined: ``json_schema`` checks answers (``on: output``) and cannot redact;
``max_length`` on the input cannot redact (which message would it cut?), on the output
``redact`` truncates the answer.
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from switchyard.guardrails.detectors import DETECTORS, PII_KINDS, PiiKind
from switchyard.guardrails.rules import (
    Action,
    Finder,
    LengthRule,
    PatternRule,
    Rule,
    SchemaRule,
    Side,
)

MAX_MATCH = 4096  # the longest a regex's match may be declared (a stream holds that much back)
MAX_WORDS = 10_000
MAX_WORD_LENGTH = 256
MAX_GUARDRAILS = 64  # per alias or tenant
UNBOUNDED = 65_535  # re's width of a pattern with an unbounded repeat is at least this


class _Guardrail(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    on: Side = Field(description="input: the request's messages; output: the answer")
    action: Action = Field(
        description="block: refuse (input: 400 content_policy_violation; output: "
        "content_filter); redact: replace what matched; warn: record only"
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="names it in errors, records and metrics; unset: its type",
    )
    _rule: Rule | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 (PyYAML's) reads an unquoted ``on:`` key as the boolean true: take it as
        the ``on`` it was written as."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @property
    def label(self) -> str:
        return self.name or str(getattr(self, "type", "guardrail"))

    @property
    def rule(self) -> Rule:
        assert self._rule is not None, "compiled by the validator"
        return self._rule


class RegexGuardrail(_Guardrail):
    type: Literal["regex"] = "regex"
    pattern: str = Field(min_length=1, max_length=4096)
    ignore_case: bool = False
    max_match: int | None = Field(
        default=None,
        ge=1,
        le=MAX_MATCH,
        description="the longest text the pattern can match; needed when it has an unbounded "
        "repeat (+, *) and checks streamed answers",
    )
    replacement: str = Field(default="[REDACTED]", max_length=256)

    @model_validator(mode="after")
    def _compile(self) -> RegexGuardrail:
        try:
            pattern = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise ValueError(f"pattern: not a regular expression ({exc})") from None
        if pattern.search(""):
            raise ValueError("pattern: matches the empty text")
        width = self.max_match or _max_width(pattern)
        if width is None:
            if self.on == "output":
                raise ValueError(
                    "max_match: the pattern has no longest match (an unbounded repeat); set "
                    f"max_match (at most {MAX_MATCH}) so a stream knows how much to hold back"
                )
            width = MAX_MATCH
        finder = Finder(pattern, self.replacement)
        self._rule = PatternRule(self.label, self.on, self.action, (finder,), min(width, MAX_MATCH))
        return self


class BlocklistGuardrail(_Guardrail):
    type: Literal["blocklist"] = "blocklist"
    words: list[Annotated[str, Field(min_length=1, max_length=MAX_WORD_LENGTH)]] = Field(
        min_length=1, max_length=MAX_WORDS, description="words or phrases, matched literally"
    )
    ignore_case: bool = True
    whole_words: bool = Field(
        default=True, description='match only whole words ("ass" does not match "class")'
    )
    replacement: str = Field(default="[REDACTED]", max_length=256)

    @model_validator(mode="after")
    def _compile(self) -> BlocklistGuardrail:
        words = sorted(set(self.words), key=len, reverse=True)  # the longest phrase first
        body = "|".join(re.escape(word) for word in words)
        source = rf"(?<!\w)(?:{body})(?!\w)" if self.whole_words else f"(?:{body})"
        pattern = re.compile(source, re.IGNORECASE if self.ignore_case else 0)
        finder = Finder(pattern, self.replacement)
        self._rule = PatternRule(self.label, self.on, self.action, (finder,), len(words[0]))
        return self


class PiiGuardrail(_Guardrail):
    type: Literal["pii"] = "pii"
    detect: list[PiiKind] = Field(
        default_factory=lambda: list(PII_KINDS),
        min_length=1,
        description="email, phone, credit_card, iban, api_key (unset: all)",
    )
    replacement: str | None = Field(
        default=None, max_length=256, description="unset: [REDACTED:EMAIL], [REDACTED:IBAN]..."
    )

    @model_validator(mode="after")
    def _compile(self) -> PiiGuardrail:
        detectors = [DETECTORS[kind] for kind in dict.fromkeys(self.detect)]
        finders = tuple(
            Finder(d.pattern, self.replacement or f"[REDACTED:{d.kind.upper()}]", d.valid)
            for d in detectors
        )
        longest = max(d.max_length for d in detectors)
        self._rule = PatternRule(self.label, self.on, self.action, finders, longest)
        return self


class MaxLengthGuardrail(_Guardrail):
    type: Literal["max_length"] = "max_length"
    max_chars: int = Field(
        ge=1, description="input: all messages' text together; output: the answer's text"
    )

    @model_validator(mode="after")
    def _compile(self) -> MaxLengthGuardrail:
        if self.on == "input" and self.action == "redact":
            raise ValueError("action: max_length on the input can block or warn, not redact")
        self._rule = LengthRule(self.label, self.on, self.action, self.max_chars)
        return self


class JsonSchemaGuardrail(_Guardrail):
    type: Literal["json_schema"] = "json_schema"
    json_schema: dict[str, Any] = Field(
        alias="schema", description="a JSON Schema the answer's text must satisfy (as JSON)"
    )

    @model_validator(mode="after")
    def _compile(self) -> JsonSchemaGuardrail:
        if self.on != "output":
            raise ValueError("on: json_schema checks answers: it must be on: output")
        if self.action == "redact":
            raise ValueError("action: json_schema can block or warn, not redact")
        try:
            from jsonschema import validators
            from jsonschema.exceptions import SchemaError
        except ImportError:  # pragma: no cover - the guardrails extra brings it
            raise ValueError(
                "type: json_schema needs the jsonschema package (pip install "
                "'switchyard[guardrails]')"
            ) from None
        cls = validators.validator_for(self.json_schema)
        try:
            cls.check_schema(self.json_schema)
        except SchemaError as exc:
            raise ValueError(f"schema: not a valid JSON Schema ({exc.message})") from None
        validator = cls(self.json_schema)

        def problem(text: str) -> str | None:
            try:
                value = json.loads(text)
            except ValueError:
                return "the answer is not JSON"
            error = next(iter(validator.iter_errors(value)), None)
            return None if error is None else error.message

        self._rule = SchemaRule(self.label, self.on, self.action, problem)
        return self


GuardrailSettings = Annotated[
    RegexGuardrail | BlocklistGuardrail | PiiGuardrail | MaxLengthGuardrail | JsonSchemaGuardrail,
    Field(discriminator="type"),
]
GUARDRAIL_TYPES = ("regex", "blocklist", "pii", "max_length", "json_schema")


def check_names(guardrails: list[Any]) -> list[Any]:
    """ValueError ``[i].name`` for a second guardrail with the same name (or the same type,
    unnamed): records and metrics tell them apart by name."""
    seen: set[str] = set()
    for i, guardrail in enumerate(guardrails):
        if guardrail.label in seen:
            raise ValueError(
                f"[{i}].name: a second guardrail named {guardrail.label!r}: give each a name"
            )
        seen.add(guardrail.label)
    return guardrails


def _max_width(pattern: re.Pattern[str]) -> int | None:
    """The longest text ``pattern`` can match, None when unbounded. Read from the parse tree
    of re's own parser (``re._parser``: the standard library's, stable since 3.11, the one
    ``re.compile`` runs); where it is missing, the pattern counts as unbounded."""
    try:
        parser = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - CPython 3.11+ has it
        return None
    width = parser.parse(pattern.pattern, pattern.flags).getwidth()[1]
    return None if width >= UNBOUNDED else int(width)


__all__ = [
    "GUARDRAIL_TYPES",
    "MAX_GUARDRAILS",
    "MAX_MATCH",
    "BlocklistGuardrail",
    "GuardrailSettings",
    "JsonSchemaGuardrail",
    "MaxLengthGuardrail",
    "PiiGuardrail",
    "RegexGuardrail",
    "check_names",
]
