"""Fake OpenAI-compatible services on 127.0.0.1: the fake OpenAI server, mounted where each
service mounts its API.

- :class:`DeepSeekUpstream`: at the host root (``https://api.deepseek.com/chat/completions``).
- :class:`OpenRouterUpstream`: under ``/api/v1``.
- :class:`AzureOpenAIUpstream`: a resource endpoint serving deployments only
  (``/openai/deployments/{name}/chat/completions?api-version=...``) and the v1 API
  (``/openai/v1/...``); any other path is Azure's 404, a request without the ``api-key``
  header Azure's 401, both before the script is consulted, so a wrong URL fails the test.
"""

from __future__ import annotations

import re

import orjson
from aiohttp import web

from tests.fakes.openai_upstream import OpenAIUpstream
from tests.fakes.upstream import RecordedRequest


class DeepSeekUpstream(OpenAIUpstream):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class OpenRouterUpstream(OpenAIUpstream):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"


_DEPLOYMENT = re.compile(r"^/openai/deployments/[A-Za-z0-9._-]+/(chat/completions|embeddings)$")
_V1 = re.compile(r"^/openai/v1/(chat/completions|embeddings|models)$")
# Azure's answers for a wrong key and an unknown path (its data plane's error bodies).
_ACCESS_DENIED = {
    "error": {
        "code": "401",
        "message": "Access denied due to invalid subscription key or wrong API endpoint. Make "
        "sure to provide a valid key for an active subscription and use a correct regional API "
        "endpoint for your resource.",
    }
}
_NOT_FOUND = {"error": {"code": "404", "message": "Resource not found"}}


class AzureOpenAIUpstream(OpenAIUpstream):
    """An Azure OpenAI resource; ``base_url`` is its endpoint (``https://{resource}...``)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        dated = _DEPLOYMENT.match(path) is not None and bool(request.query.get("api-version"))
        if not dated and _V1.match(path) is None:
            return await self._refuse(request, 404, _NOT_FOUND)
        if not request.headers.get("api-key"):
            return await self._refuse(request, 401, _ACCESS_DENIED)
        return await super()._handle(request)

    async def _refuse(
        self, request: web.Request, status: int, body: dict[str, object]
    ) -> web.Response:
        raw = await request.read()
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=request.query_string,
                headers={key.lower(): value for key, value in request.headers.items()},
                body=raw,
                json=orjson.loads(raw) if raw else None,
                completed=True,
            )
        )
        return web.json_response(body, status=status)


__all__ = ["AzureOpenAIUpstream", "DeepSeekUpstream", "OpenRouterUpstream"]
