"""Recorded OpenAI traffic (go-vcr v2 YAML) from ``tests/conformance/openai-cassettes``.

The cassettes are in-repo copies of public recordings (where from and under which licence:
``tests/conformance/README.md``)::

    cassette = load_cassette("chat-tools")
    cassette.request_json        # what the client sent
    cassette.response_json       # what OpenAI answered (None for a stream)
    cassette.sse_data            # a stream's ``data:`` payloads, "[DONE]" included
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import yaml

CONFORMANCE_DIR = Path(__file__).resolve().parents[1] / "conformance"
CASSETTE_DIR = CONFORMANCE_DIR / "openai-cassettes"

try:  # the C loader is ~10x faster when PyYAML was built with it
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Cassette:
    name: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    response_body: str

    @property
    def path(self) -> str:
        """The request path, e.g. ``/v1/chat/completions``."""
        return urlsplit(self.url).path

    @property
    def endpoint(self) -> str:
        """The path after the API version, e.g. ``/chat/completions`` (Azure's deployment
        prefix stripped too)."""
        for marker in ("/chat/completions", "/completions", "/embeddings", "/models"):
            if self.path.endswith(marker):
                return marker
        return self.path

    @property
    def request_json(self) -> Any:
        return orjson.loads(self.request_body) if self.request_body else None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "")

    @property
    def is_stream(self) -> bool:
        return self.content_type.startswith("text/event-stream")

    @property
    def response_json(self) -> Any:
        """The reply body as JSON; None for a stream or an empty body."""
        if self.is_stream or not self.response_body:
            return None
        return orjson.loads(self.response_body)

    @property
    def sse_data(self) -> list[str]:
        """A streamed reply's ``data:`` payloads in order (``[DONE]`` included)."""
        events: list[str] = []
        for block in self.response_body.replace("\r\n", "\n").split("\n\n"):
            lines = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
            if lines:
                events.append("\n".join(lines))
        return events


@functools.cache
def load_cassette(name: str) -> Cassette:
    """A cassette by file name without ``.yaml`` (its first interaction)."""
    raw = yaml.load((CASSETTE_DIR / f"{name}.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    interaction = raw["interactions"][0]
    request, response = interaction["request"], interaction["response"]
    return Cassette(
        name=name,
        method=request["method"],
        url=request["url"],
        request_headers=_first_values(request.get("headers")),
        request_body=request.get("body") or "",
        status=int(response["code"]),
        response_headers=_first_values(response.get("headers")),
        response_body=response.get("body") or "",
    )


def cassette_names(prefix: str = "") -> list[str]:
    """Names of the cassettes whose file name starts with ``prefix``, sorted."""
    return sorted(path.stem for path in CASSETTE_DIR.glob(f"{prefix}*.yaml"))


def _first_values(headers: dict[str, list[str]] | None) -> dict[str, str]:
    return {key.lower(): values[0] for key, values in (headers or {}).items() if values}


__all__ = ["CASSETTE_DIR", "CONFORMANCE_DIR", "Cassette", "cassette_names", "load_cassette"]
