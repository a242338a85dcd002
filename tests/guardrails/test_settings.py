"""Guardrail settings are compiled at config load; every mistake names its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from switchyard.config.load import load_config, validate_config
from switchyard.errors import ConfigError
from switchyard.guardrails.rules import PatternRule
from switchyard.guardrails.scan import redact_text
from switchyard.guardrails.settings import BlocklistGuardrail, RegexGuardrail
from switchyard.tenancy.settings import TenantSettings


def config(*guardrails: dict[str, Any]) -> dict[str, Any]:
    return {
        "providers": {"a": {"type": "fake"}},
        "models": [{"name": "s", "deployments": [{"provider": "a", "model": "m"}],
                    "guardrails": list(guardrails)}],
    }  # fmt: skip


def problems(*guardrails: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as refused:
        validate_config(config(*guardrails))
    return refused.value.problems


OUT = {"on": "output", "action": "redact"}


@pytest.mark.parametrize(
    ("guardrail", "key", "says"),
    [
        ({"type": "regex", "pattern": "(", **OUT}, "pattern", "not a regular expression"),
        ({"type": "regex", "pattern": "a*", **OUT}, "pattern", "matches the empty text"),
        ({"type": "regex", "pattern": "TPS-\\d+", **OUT}, "max_match", "no longest match"),
        ({"type": "regex", "pattern": "x", "max_match": 5000, **OUT}, "max_match", "4096"),
        ({"type": "blocklist", "words": [], **OUT}, "words", "at least 1"),
        ({"type": "pii", "detect": ["ssn"], **OUT}, "detect[0]", "'email'"),
        ({"type": "max_length", "max_chars": 5, "on": "input", "action": "redact"}, "action",
         "block or warn"),
        ({"type": "json_schema", "schema": {}, "on": "input", "action": "block"}, "on",
         "on: output"),
        ({"type": "json_schema", "schema": {}, **OUT}, "action", "block or warn"),
        ({"type": "json_schema", "schema": {"type": 5}, "on": "output", "action": "warn"},
         "schema", "not a valid JSON Schema"),
        ({"type": "pii", "on": "sideways", "action": "warn"}, "on", "'input' or 'output'"),
        ({"type": "pii", "on": "input", "action": "warn", "colour": 1}, "colour", "unknown key"),
        ({"type": "ssn", **OUT}, "type", "unknown guardrail type"),
        ({"type": "pii", "name": "has space", **OUT}, "name", "pattern"),
    ],
)  # fmt: skip
def test_a_mistake_names_its_key(guardrail: dict[str, Any], key: str, says: str) -> None:
    [(where, message)] = problems(guardrail)
    assert where == f"models[0].guardrails[0].{key}"
    assert says in message


def test_two_guardrails_need_two_names() -> None:
    [(where, message)] = problems({"type": "pii", **OUT}, {"type": "pii", "on": "input",
                                                           "action": "warn"})  # fmt: skip
    assert where == "models[0].guardrails[1].name" and "'pii'" in message
    validate_config(config({"type": "pii", **OUT}, {"type": "pii", "name": "pii-in",
                                                    "on": "input", "action": "warn"}))  # fmt: skip
    with pytest.raises(ValidationError, match="second guardrail"):
        TenantSettings.model_validate(
            {"name": "acme", "guardrails": [{"type": "pii", **OUT}, {"type": "pii", **OUT}]}
        )


def test_a_regex_knows_its_longest_match_and_an_input_regex_needs_none() -> None:
    rule = RegexGuardrail(pattern=r"TICKET-\d{4,8}", **OUT).rule  # type: ignore[arg-type]
    assert isinstance(rule, PatternRule) and rule.max_length == 15
    declared = RegexGuardrail(pattern=r"TPS-\d+", max_match=12, **OUT).rule  # type: ignore[arg-type]
    assert isinstance(declared, PatternRule) and declared.max_length == 12
    RegexGuardrail(pattern=r"TPS-\d+", on="input", action="block")  # a whole text: no hold


def test_a_blocklist_matches_whole_words_and_phrases_in_any_case_by_default() -> None:
    rule = BlocklistGuardrail(words=["ass", "top secret"], **OUT).rule  # type: ignore[arg-type]
    assert isinstance(rule, PatternRule)
    text = "A classic: TOP SECRET, assorted, ass."
    assert (
        redact_text([rule], text, lambda r: None) == "A classic: [REDACTED], assorted, [REDACTED]."
    )
    inside = BlocklistGuardrail(words=["ass"], whole_words=False, **OUT).rule  # type: ignore[arg-type]
    assert isinstance(inside, PatternRule)
    assert redact_text([inside], "classic", lambda r: None) == "cl[REDACTED]ic"


def test_settings_round_trip_as_the_admin_api_stores_them() -> None:
    tenant = TenantSettings.model_validate(
        {"name": "acme", "guardrails": [
            {"type": "json_schema", "schema": {"type": "object"}, "on": "output",
             "action": "block"},
            {"type": "regex", "pattern": "x{2}", "on": "output", "action": "warn"},
        ]}
    )  # fmt: skip
    stored = [g.model_dump(mode="json", exclude_none=True) for g in tenant.guardrails]
    assert stored[0]["schema"] == {"type": "object"}
    again = TenantSettings.model_validate({"name": "acme", "guardrails": stored})
    assert again.model_dump() == tenant.model_dump()


def test_an_unquoted_yaml_on_key_is_read_as_on(tmp_path: Path) -> None:
    """PyYAML reads ``on:`` as the boolean true (YAML 1.1); a guardrail takes it as ``on``."""
    path = tmp_path / "switchyard.yaml"
    path.write_text(
        "providers: {a: {type: fake}}\n"
        "models:\n"
        "  - name: s\n"
        "    deployments: [{provider: a, model: m}]\n"
        "    guardrails:\n"
        "      - {type: pii, on: output, action: redact}\n"
        "      - type: blocklist\n"
        "        on: input\n"
        "        action: block\n"
        "        words: [falcon]\n"
    )
    guardrails = load_config(path).models[0].guardrails
    assert [(g.type, g.on, g.action) for g in guardrails] == [
        ("pii", "output", "redact"),
        ("blocklist", "input", "block"),
    ]
