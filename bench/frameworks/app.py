"""A tiny OpenAI-style proxy used to compare hot-path building blocks.

One handler, written for each framework, does what a gateway does at minimum on
POST /v1/chat/completions: parse the JSON body, rewrite the model, serialize, POST it to the
fake upstream (nginx), parse the upstream JSON, serialize it again and answer.

Selected by environment variables (read once at import):
  BENCH_FW      raw | starlette | fastapi        (default raw: a bare ASGI callable)
  BENCH_CLIENT  aiohttp | httpx                  (default aiohttp)
  BENCH_JSON    orjson | json                    (default orjson)
  BENCH_UPSTREAM  default http://127.0.0.1:18081/v1/chat/completions

Serve it with any ASGI server, e.g.
  uvicorn --app-dir bench/frameworks app:app --loop uvloop --http httptools --no-access-log
  granian --interface asgi --app-dir bench/frameworks app:app
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

FW = os.environ.get("BENCH_FW", "raw")
CLIENT = os.environ.get("BENCH_CLIENT", "aiohttp")
JSON = os.environ.get("BENCH_JSON", "orjson")
UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:18081/v1/chat/completions")
UPSTREAM_MODEL = "gpt-4o-mini"
UPSTREAM_HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer none"}

# ----------------------------------------------------------------------------- JSON

if JSON == "orjson":
    import orjson

    loads: Callable[[bytes], Any] = orjson.loads
    dumps: Callable[[Any], bytes] = orjson.dumps
elif JSON == "json":
    _encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

    def loads(data: bytes) -> Any:
        return json.loads(data)

    def dumps(obj: Any) -> bytes:
        return _encoder.encode(obj).encode()
else:
    raise SystemExit(f"BENCH_JSON={JSON!r}: expected orjson or json")

# ----------------------------------------------------------------------------- HTTP client

_client: Any = None

if CLIENT == "aiohttp":
    import aiohttp

    async def upstream_post(payload: bytes) -> tuple[int, bytes]:
        global _client
        if _client is None:
            _client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=None),
                timeout=aiohttp.ClientTimeout(total=30),
            )
        async with _client.post(UPSTREAM, data=payload, headers=UPSTREAM_HEADERS) as resp:
            return resp.status, await resp.read()

elif CLIENT == "httpx":
    import httpx

    async def upstream_post(payload: bytes) -> tuple[int, bytes]:
        global _client
        if _client is None:
            _client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
                timeout=30.0,
            )
        resp = await _client.post(UPSTREAM, content=payload, headers=UPSTREAM_HEADERS)
        return resp.status_code, resp.content

else:
    raise SystemExit(f"BENCH_CLIENT={CLIENT!r}: expected aiohttp or httpx")


async def proxy(body: bytes) -> tuple[int, bytes]:
    """The shared hot path: JSON in, upstream call, JSON out."""
    request = loads(body)
    request["model"] = UPSTREAM_MODEL
    status, raw = await upstream_post(dumps(request))
    if status != 200:
        return 502, b'{"error":{"message":"upstream error","type":"upstream_error"}}'
    response = loads(raw)
    response["model"] = request["model"]
    return 200, dumps(response)


# ----------------------------------------------------------------------------- frameworks

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

if FW == "raw":
    _JSON_HEADERS = [(b"content-type", b"application/json")]
    _NOT_FOUND = b'{"error":{"message":"not found","type":"invalid_request_error"}}'

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] != "/v1/chat/completions" or scope["method"] != "POST":
            status, out = 404, _NOT_FOUND
        else:
            chunks = []
            more = True
            while more:
                message = await receive()
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            status, out = await proxy(b"".join(chunks))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(out)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": out})

elif FW == "starlette":
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def chat(request: Request) -> Response:
        status, out = await proxy(await request.body())
        return Response(out, status_code=status, media_type="application/json")

    app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])

elif FW == "fastapi":
    from fastapi import FastAPI, Request, Response

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        status, out = await proxy(await request.body())
        return Response(out, status_code=status, media_type="application/json")

else:
    raise SystemExit(f"BENCH_FW={FW!r}: expected raw, starlette or fastapi")
