"""Each distinct small document is parsed and validated once; long ones every time; the
limits hold either way."""

from __future__ import annotations

import asyncio
from typing import Any

from switchyard import Gateway
from switchyard.doors.drain import Drain
from switchyard.doors.graphql import documents
from switchyard.doors.graphql.context import DoorContext
from switchyard.doors.graphql.schema import build_schema
from switchyard.types import Principal

CONFIG = {
    "providers": {"a": {"type": "fake"}},
    "models": [{"name": "m", "deployments": [{"provider": "a", "model": "x"}]}],
}


SCHEMA = build_schema()  # one per app: the cache is keyed by it


def run(query: str) -> Any:
    async def health() -> dict[str, Any]:
        return {"status": "ok", "info": {}}

    context = DoorContext(
        gateway=Gateway.from_config(CONFIG),
        health=health,
        drain=Drain(),
        request=None,  # type: ignore[arg-type]  # no HTTP request: the resolvers run directly
        request_id="rid",
        principal=Principal.anonymous_admin(),
    )
    return asyncio.run(SCHEMA.execute(query, context_value=context))


def test_a_document_is_parsed_and_validated_once() -> None:
    query = "{ models { id alias } }"
    before = documents._errors.cache_info()
    first, second = run(query), run(query)
    after = documents._errors.cache_info()
    assert first.errors is None and first.data == second.data == {
        "models": [{"id": "m", "alias": True}, {"id": "a/x", "alias": False}]
    }
    assert after.misses - before.misses <= 1 and after.hits - before.hits >= 1


def test_a_long_document_is_not_kept_and_still_answered() -> None:
    padding = " " * documents.MAX_CACHED_CHARS
    before = documents._parsed.cache_info()
    result = run("{ models { id } }" + padding)
    assert result.errors is None and documents._parsed.cache_info().currsize == before.currsize


def test_invalid_and_unparsable_documents_get_their_errors_cached_or_not() -> None:
    for _ in range(2):
        [invalid] = run("{ modelz }").errors
        assert "Cannot query field 'modelz'" in invalid.message
        assert invalid.extensions["code"] == "invalid_request"
        [syntax] = run("{ models { id }").errors
        assert "Syntax Error" in syntax.message


def test_the_limits_apply_to_cached_documents() -> None:
    aliases = " ".join(f"a{i}: models {{ id }}" for i in range(documents.MAX_ALIASES + 1))
    for _ in range(2):
        [error] = run(f"{{ {aliases} }}").errors
        assert "aliases" in error.message.lower()
