"""An OpenAI-shaped upstream whose errors echo the credentials it was sent.

Real upstreams and the proxies in front of them do this (a debugging page listing the request
headers, an error quoting the key it refused). The model name picks the answer:

- ``echo-401``: 401 with an OpenAI error whose message quotes the ``Authorization`` header;
- ``echo-500``: 500, the same;
- ``echo-text``: 502 with a plain-text body (not JSON) listing every request header;
- anything else: the usual chat completion.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import Reply


class EchoingUpstream(OpenAIUpstream):
    def _default(self, request: web.Request, body: Any) -> Reply:
        model = body.get("model") if isinstance(body, dict) else None
        sent = request.headers.get("Authorization", "")
        if model == "echo-401":
            return Reply.error(401, f"Incorrect API key provided: {sent}", code="invalid_api_key")
        if model == "echo-500":
            return Reply.error(500, f"internal error while serving {sent}", type="server_error")
        if model == "echo-text":
            headers = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
            return Reply(
                status=502, raw=f"Bad gateway\n{headers}\n".encode(), content_type="text/plain"
            )
        return super()._default(request, body)


__all__ = ["EchoingUpstream"]
