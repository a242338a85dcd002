"""The GraphQL door's pure parts: CompletionInput to a ChatRequest's fields, a response and a
stream's chunks to CompletionResponse items, the errors' extensions, the models' facts."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError

from switchyard.catalog.catalog import Catalog
from switchyard.config.schema import ModelAlias
from switchyard.doors.graphql.errors import failure_of, rendered, unexpected
from switchyard.doors.graphql.objects import CompletionInput, MessageInput
from switchyard.doors.graphql.reports import model_entries
from switchyard.doors.graphql.translate import StreamItems, chat_fields, completion
from switchyard.doors.graphql.wire import error_body
from switchyard.errors import InvalidRequest, RateLimited, SwitchyardError
from switchyard.status import ModelListing
from switchyard.types import ChatChunk, ChatRequest, ChatResponse, Choice, Cost, Message, Usage


def test_a_prompt_with_a_system_prompt_becomes_two_messages_and_only_the_fields_given() -> None:
    fields = chat_fields(
        CompletionInput(prompt="hi", system="be brief", max_tokens=5, metadata={"team": "a"}),
        "smart",
    )
    assert fields == {
        "model": "smart",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
        ],
        "max_tokens": 5,
        "metadata": {"team": "a"},
    }
    ChatRequest.model_validate(fields)  # what the Gateway will do with them


def test_messages_keep_their_order_after_the_system_prompt() -> None:
    given = [MessageInput(role="user", content="a"), MessageInput(role="assistant", content="b")]
    fields = chat_fields(
        CompletionInput(messages=given, system="s", temperature=0.2, top_p=0.9, stop=["x"]), "m"
    )
    assert [m["content"] for m in fields["messages"]] == ["s", "a", "b"]
    assert (fields["temperature"], fields["top_p"], fields["stop"]) == (0.2, 0.9, ["x"])


@pytest.mark.parametrize(
    ("given", "param"),
    [
        (CompletionInput(), "messages"),
        (CompletionInput(messages=[]), "messages"),
        (CompletionInput(messages=[MessageInput(role="user", content="a")], prompt="b"), "prompt"),
    ],
)
def test_messages_or_prompt_exactly_one_of_them(given: CompletionInput, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_fields(given, "m")
    assert caught.value.param == param


def response(content: Any = "four", cost: Cost | None = None) -> ChatResponse:
    return ChatResponse(
        id="r-1",
        created=1,
        model="gpt-4.1-mini",
        provider="a",
        choices=[
            Choice(message=Message(role="assistant", content=content), finish_reason="length")
        ],
        usage=Usage(input_tokens=3, output_tokens=4, cached_input_tokens=1),
        cost=cost,
        cache_status="miss",
    )


def test_a_response_becomes_a_done_completion_with_usage_and_cost() -> None:
    item = completion(response(cost=Cost(input=1e-6, output=2e-6, total=3e-6)), 12.34567)
    assert (item.id, item.text, item.model, item.provider) == ("r-1", "four", "gpt-4.1-mini", "a")
    assert (item.finish_reason, item.done, item.latency_ms, item.cache) == (
        "length",
        True,
        12.346,
        "miss",
    )
    assert item.usage is not None
    assert (item.usage.input_tokens, item.usage.output_tokens, item.usage.total_tokens) == (3, 4, 7)
    assert item.usage.cached_input_tokens == 1
    assert item.cost is not None and item.cost.total == 3e-6


def test_an_unpriced_response_has_no_cost_not_zero_and_parts_are_joined() -> None:
    item = completion(
        response(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]), 1
    )
    assert item.cost is None and item.text == "ab"


def chunk(**fields: Any) -> ChatChunk:
    return ChatChunk(id="c-1", created=1, model="m-1", **fields)


def test_stream_items_carry_text_as_it_comes_then_one_last_item_with_the_totals() -> None:
    items = StreamItems("a", None)
    got = [
        items.item(chunk(role="assistant")),
        items.item(chunk(text="one")),
        items.item(chunk(text=" two", finish_reason="stop")),
        items.item(chunk(usage=Usage(input_tokens=2, output_tokens=2), cost=Cost(total=1e-6))),
    ]
    assert [None if g is None else (g.text, g.done) for g in got] == [
        None,
        ("one", False),
        (" two", False),
        None,
    ]
    assert all(g is None or (g.usage is None and g.finish_reason is None) for g in got)
    last = items.last(50.0)
    assert (last.id, last.model, last.provider, last.text, last.done) == (
        "c-1",
        "m-1",
        "a",
        "",
        True,
    )
    assert last.finish_reason == "stop" and last.usage is not None and last.usage.total_tokens == 4
    assert last.cost is not None and last.cost.total == 1e-6 and last.latency_ms == 50.0


def graphql_error(original: Exception | None, message: str = "boom") -> GraphQLError:
    return GraphQLError(message, path=["complete"], original_error=original)


def test_a_taxonomy_error_keeps_its_message_and_gets_code_type_status_param_retry_after() -> None:
    limited = RateLimited("slow down", retry_after=2.5, param="model")
    error = rendered(graphql_error(limited), "rid-1")
    assert error.message == "slow down" and error.path == ["complete"]
    assert error.extensions == {
        "code": "rate_limit_exceeded",
        "type": limited.error_type,
        "status": 429,
        "param": "model",
        "retryAfter": 2.5,
    }
    assert not unexpected(graphql_error(limited))


def test_a_bug_is_internal_error_with_the_request_id_and_none_of_its_text() -> None:
    bug = RuntimeError("password=hunter2 at line 3")
    error = rendered(graphql_error(bug), "rid-7")
    assert "hunter2" not in error.message and "rid-7" in error.message
    assert error.extensions is not None and error.extensions["code"] == "internal_error"
    assert error.extensions["status"] == 500
    assert unexpected(graphql_error(bug))


def test_a_document_error_is_an_invalid_request() -> None:
    error = rendered(GraphQLError("Cannot query field 'x' on type 'Query'."), "rid")
    assert error.message == "Cannot query field 'x' on type 'Query'."
    assert error.extensions == {
        "code": "invalid_request",
        "type": "invalid_request_error",
        "status": 400,
    }
    assert isinstance(failure_of(GraphQLError("x"), "rid"), InvalidRequest)


def test_the_guards_refusals_are_graphql_responses() -> None:
    body = error_body(SwitchyardError("nope"))
    assert body == {
        "errors": [
            {
                "message": "nope",
                "extensions": {"code": "internal_error", "type": "api_error", "status": 500},
            }
        ]
    }


def test_models_carry_the_catalogs_facts_an_alias_its_first_deployments() -> None:
    aliases = [
        ModelAlias.model_validate(
            {
                "name": "smart",
                "deployments": [
                    {"provider": "a", "model": "gpt-4.1", "prices": {"input": 9, "output": 9}},
                    {"provider": "b", "model": "claude-sonnet-4-5"},
                ],
            }
        )
    ]
    listing = [
        ModelListing("smart", "switchyard", True),
        ModelListing("a/gpt-4.1", "a", False),
        ModelListing("b/claude-sonnet-4-5", "b", False),
        ModelListing("b/not-in-any-catalog", "b", False),
    ]
    catalog = Catalog.default()
    smart, gpt, claude, unknown = model_entries(listing, aliases, catalog)
    info = catalog.get("gpt-4.1")
    assert info is not None
    assert smart.deployments == ["a/gpt-4.1", "b/claude-sonnet-4-5"] and smart.alias
    assert smart.context_window == info.context_window and smart.known
    assert smart.prices is not None and smart.prices.input == 9  # the deployment's override
    assert gpt.prices is not None and gpt.prices.input == 9
    claude_info = catalog.get("claude-sonnet-4-5")
    assert claude_info is not None and claude.prices is not None
    assert claude.prices.input == claude_info.prices.input
    assert claude.capabilities is not None
    assert claude.capabilities.tools == claude_info.capabilities.tools
    assert not unknown.known and unknown.context_window is None and unknown.prices is None
