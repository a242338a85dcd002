"""The Responses API door: ``POST /v1/responses``, ``GET`` and ``DELETE /v1/responses/{id}``,
``GET /v1/responses/{id}/input_items``.

A translator plus routes, like the other doors: the body becomes a canonical request
(:mod:`.request`), after the stored conversation a ``previous_response_id`` names has been put
in front of its ``input``; the Gateway takes it through the one lifecycle; the answer goes
back as the ``Response`` object (:mod:`.reply`) or its streamed events (:mod:`.events`).
Unless the body says ``"store": false`` the answer is kept in the Gateway's response store
(:attr:`~switchyard.gateway.Gateway.response_store`), for its caller's tenant only. Errors are
OpenAI's error JSON. Hosted tools that the upstream that answered was not given (it does not
speak Responses) are named in the ``x-switchyard-dropped-tools`` header.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.chat_stream import ChatStream
from switchyard.doors.chat import JSON, ChatDoor
from switchyard.doors.http import (
    RequestContext,
    header_value,
    json_error,
    new_context,
    principal_of,
)
from switchyard.doors.responses.events import ResponseEvents
from switchyard.doors.responses.reply import item_id, new_id, response_to_responses
from switchyard.doors.responses.request import (
    hosted_tool_names,
    input_items,
    request_from_responses,
)
from switchyard.doors.sse import Framing
from switchyard.errors import InvalidRequest, SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.response_store.store import StoredResponse
from switchyard.types import ChatRequest, ChatResponse, Principal, ServedBy

DROPPED_TOOLS = "x-switchyard-dropped-tools"
MAX_PAGE = 100
_ITEM_PREFIXES = {"message": "msg", "function_call": "fc", "reasoning": "rs"}


class ResponsesDoor(ChatDoor):
    stream_name = "a Responses API stream"
    prepares = own_headers = True

    def chat_request(self, body: dict[str, Any], request: Request) -> ChatRequest:
        return request_from_responses(body)

    async def prepare(self, body: dict[str, Any], principal: Principal) -> None:
        """The conversation ``previous_response_id`` names (404 when the caller's tenant has
        no such response), then this request's ``input``."""
        previous = body.get("previous_response_id")
        if previous is None:
            return
        if not isinstance(previous, str):
            raise InvalidRequest(
                "previous_response_id: must be a string", param="previous_response_id"
            )
        stored = await self.gateway.response_store.get(previous, principal)
        body["input"] = [*stored.conversation(), *input_items(body.get("input"))]

    def render(self, chat: ChatRequest, response: ChatResponse, context: RequestContext) -> bytes:
        body = _body(chat)
        sealed = not self._speaks_responses(response.served_by)
        created = response.created or int(time.time())
        answer = response_to_responses(response, new_id("resp"), created, body, sealed=sealed)
        data = orjson.dumps(answer)
        self._keep(chat, answer["id"], data, context.principal)
        return data

    def framing(self, chat: ChatRequest, stream: ChatStream, context: RequestContext) -> Framing:
        return ResponseEvents(
            new_id("resp"),
            chat.model,
            _body(chat),
            sealed=lambda: not self._speaks_responses(stream.served_by),
            on_done=lambda answer: self._keep(
                chat, answer["id"], orjson.dumps(answer), context.principal
            ),
        )

    def answer_headers(self, chat: ChatRequest, served_by: ServedBy | None) -> dict[str, str]:
        body = _body(chat)
        if "tools" not in body or self._speaks_responses(served_by):
            return {}
        dropped = hosted_tool_names(body)
        # the names are the client's (a custom tool's): printable ASCII only in a header
        return {DROPPED_TOOLS: header_value(",".join(dropped))} if dropped else {}

    def error_response(self, error: SwitchyardError, context: RequestContext) -> Response:
        return error_response(error, context)

    # -- routes ---------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        return await self.handle_chat(request)

    async def retrieve(self, request: Request) -> Response:
        context = new_context(request)
        try:
            stored = await self._stored(request)
        except SwitchyardError as error:
            return error_response(error, context)
        return Response(stored.response, media_type=JSON, headers=context.headers())

    async def delete(self, request: Request) -> Response:
        context = new_context(request)
        response_id = request.path_params["id"]
        try:
            await self.gateway.response_store.delete(response_id, principal_of(request))
        except SwitchyardError as error:
            return error_response(error, context)
        return _json({"id": response_id, "object": "response", "deleted": True}, context)

    async def input_items(self, request: Request) -> Response:
        """One page of the items the response answered: ``limit`` (1 to 100, 20 by default),
        ``order`` (``desc``, the default, or ``asc``), ``after`` (an item id)."""
        context = new_context(request)
        try:
            stored = await self._stored(request)
            page = _page(_listed(stored.id, stored.items()), dict(request.query_params))
        except SwitchyardError as error:
            return error_response(error, context)
        return _json(page, context)

    # -- helpers --------------------------------------------------------------------------------

    async def _stored(self, request: Request) -> StoredResponse:
        return await self.gateway.response_store.get(
            request.path_params["id"], principal_of(request)
        )

    def _speaks_responses(self, served_by: ServedBy | None) -> bool:
        return served_by is not None and self.gateway.speaks_responses(served_by.provider)

    def _keep(
        self,
        chat: ChatRequest,
        response_id: str,
        answer: bytes,
        principal: Principal | None,
    ) -> None:
        """Store ``answer`` (the Response object's JSON) for ``principal``'s tenant unless the
        body said ``"store": false``; its retention counts from now (the answer's own
        ``created_at`` may be the upstream's clock)."""
        body = _body(chat)
        if body.get("store") is False:
            return
        self.gateway.response_store.put(
            StoredResponse(
                id=response_id,
                tenant=principal.tenant if principal else None,
                key_id=principal.key_id if principal else None,
                model=chat.model,
                created_at=int(time.time()),
                input_items=orjson.dumps(input_items(body.get("input"))),
                response=answer,
            )
        )


def _body(chat: ChatRequest) -> dict[str, Any]:
    """The client's body as the request keeps it (see :mod:`.request`)."""
    assert chat.format_fields is not None
    return chat.format_fields.fields


def _listed(response_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items as the input items list shows them: each with an ``id`` (the client's, else
    one made from the response's id and the item's position: the same on every listing) and
    a ``type``, a message's string content as one text part."""
    out = []
    for n, item in enumerate(items):
        kind = str(item.get("type", "message"))
        prefix = _ITEM_PREFIXES.get(kind, "item")
        shown: dict[str, Any] = {"id": item_id(response_id, prefix, n), "type": kind}
        shown.update(item)
        if kind == "message" and isinstance(item.get("content"), str):
            part = "output_text" if item.get("role") == "assistant" else "input_text"
            shown["content"] = [{"type": part, "text": item["content"]}]
        out.append(shown)
    return out


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    limit_text = query.get("limit", "20")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise InvalidRequest(f"limit: must be an integer from 1 to {MAX_PAGE}", param="limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest("order: must be 'asc' or 'desc'", param="order")
    ordered = items if order == "asc" else items[::-1]
    after = query.get("after")
    if after is not None:
        ids = [item.get("id") for item in ordered]
        if after not in ids:
            raise InvalidRequest(f"after: no item {after[:64]!r} in this response", param="after")
        ordered = ordered[ids.index(after) + 1 :]
    data = ordered[: int(limit_text)]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(ordered) > len(data),
    }


def _json(body: dict[str, Any], context: RequestContext) -> Response:
    return Response(orjson.dumps(body), media_type=JSON, headers=context.headers())


def error_response(error: SwitchyardError, context: RequestContext) -> Response:
    return json_error(error, error_to_openai(error), context)


__all__ = ["DROPPED_TOOLS", "ResponsesDoor", "error_response"]
