"""The HTTP side of every JSON-over-HTTP adapter: one upstream API's base URL, client,
headers and error mapping, and the one loop that reads a streamed reply.

An adapter is an :class:`HttpProvider`, which builds its :class:`HttpApi` from the settings,
and declares only what differs: its default base URL, headers and error mapping
(:meth:`~HttpProvider._headers`, :meth:`~HttpProvider._map_error`), its framing
(:data:`~switchyard.streaming.framing.SSE` or :data:`~switchyard.streaming.framing.NDJSON`),
and per call the URL, the body and the
:class:`~switchyard.streaming.translator.StreamTranslator` of a stream. The rest is the same for
every provider and lives here:

- a non-2xx status raises the taxonomy error ``map_error`` says it means (:func:`status_error`:
  from a body the client has already redacted; a body that is not JSON, such as a proxy's
  HTML page, is logged and not passed on, and a provider refusing the gateway's own
  credentials is logged at ERROR); for a stream before anything is yielded, so the gateway can
  still fail over;
- a body that is not JSON, or stream bytes the framing cannot read (not UTF-8, an NDJSON line
  that is not JSON), raise ``UpstreamProtocolError`` naming the provider;
- a stream is read until its translator is ``done`` (the connection is released at once) or
  its bytes end (then the translator's ``finish`` closes it or raises); the connection is
  released however the stream ends, also when the consumer stops early and closes it;
- the message of any error a stream raises (an error event inside a 200 stream, which each
  translator maps, or a protocol error quoting the payload) is redacted with the client's
  redactor, as an error status's body is, before a client or a log sees it.

The HTTP client is the adapter's own unless one is injected (tests, benchmarks); an injected
client belongs to whoever made it and is not closed here. Its transport errors name the
provider it was made for, so each provider gets its own.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, cast

import orjson

from switchyard.catalog.catalog import Catalog
from switchyard.error_replies import error_body
from switchyard.errors import SwitchyardError, UpstreamAuthenticationError, UpstreamProtocolError
from switchyard.formats.json_body import parse_json
from switchyard.providers.base import Provider, ProviderSettings, SettingsT
from switchyard.providers.http import ErrorMapper, HttpClient, json_headers
from switchyard.streaming.framing import SSE, Framing, Parser
from switchyard.streaming.translator import StreamTranslator
from switchyard.types import ChatChunk

logger = logging.getLogger("switchyard.providers")
EventT = TypeVar("EventT")

WholeReply = Callable[[bytes], list[ChatChunk]]


class HttpApi(Generic[EventT]):
    """One upstream API as an adapter sees it: ``base_url`` its root, ``headers`` those of
    every request (a stream asks for the framing's media type instead of JSON). Without an
    ``http`` client it makes its own, with the provider's ``settings`` (timeouts, limits, the
    secrets to redact)."""

    def __init__(
        self,
        provider: str,
        *,
        base_url: str,
        headers: Mapping[str, str],
        map_error: ErrorMapper,
        framing: Framing[EventT],
        http: HttpClient | None = None,
        settings: ProviderSettings | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url
        self.headers = dict(headers)
        self.stream_headers = {**self.headers, "accept": framing.media_type}
        self.map_error = map_error
        self.framing = framing
        self.http = http if http is not None else HttpClient(provider, settings)
        self._owns_http = http is None

    async def request(
        self, method: str, url: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> bytes:
        """Send ``body`` (as JSON; None: no body) and return the reply's body; an error status
        raises what it means. ``headers`` are this request's own, over the API's."""
        data = None if body is None else orjson.dumps(body)
        sent = self.headers if headers is None else {**self.headers, **headers}
        reply = await self.http.request(method, url, body=data, headers=sent)
        if not 200 <= reply.status < 300:
            raise status_error(reply.status, reply.headers, reply.body, self.map_error)
        return reply.body

    async def request_json(self, method: str, url: str, body: Any = None) -> Any:
        """As :meth:`request`, the reply read as JSON."""
        return parse_json(await self.request(method, url, body), self.provider)

    async def stream(
        self,
        url: str,
        body: Any,
        translator: StreamTranslator[EventT],
        *,
        whole: WholeReply | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """POST ``body`` and yield the chunks ``translator`` makes of the streamed reply
        (``headers``: this request's own, over the API's).

        ``whole`` reads a reply that came as one JSON document (``content-type:
        application/json``: a server that ignored the request to stream) into the chunks of
        the whole stream; without it such a reply is framed like any other. Whatever error
        the stream ends with has its message redacted, once, here.
        """
        try:
            sent = self.stream_headers if headers is None else {**self.stream_headers, **headers}
            async with self.http.stream(
                "POST", url, body=orjson.dumps(body), headers=sent
            ) as reply:
                if not 200 <= reply.status < 300:
                    body = await reply.read()
                    raise status_error(reply.status, reply.headers, body, self.map_error)
                if whole is not None and reply.headers.get("content-type", "").startswith(
                    "application/json"
                ):
                    for chunk in whole(await reply.read()):
                        yield chunk
                    return
                parser = self.framing.parser(self.http.max_reply_bytes)
                pieces = cast(AsyncGenerator[bytes, None], reply.chunks())
                try:
                    async for data in pieces:
                        for event in self._events(parser, data):
                            for chunk in translator.feed(event):
                                yield chunk
                            if translator.done:
                                return
                    for event in self._events(parser, None):
                        for chunk in translator.feed(event):
                            yield chunk
                        if translator.done:
                            return
                finally:
                    await pieces.aclose()
            for chunk in translator.finish():
                yield chunk
        except SwitchyardError as error:
            self._redact(error)
            raise

    async def aclose(self) -> None:
        """Close the HTTP client if this API made it."""
        if self._owns_http:
            await self.http.aclose()

    def _redact(self, error: SwitchyardError) -> None:
        """Take credentials out of the message of an error a stream ended with (an error
        event's text, a payload quoted by a protocol error) before a client or a log sees it."""
        message = self.http.redactor.text(error.message)
        if message != error.message:
            _reword(error, message)

    def _events(self, parser: Parser[EventT], data: bytes | None) -> list[EventT]:
        """The events ``data`` completes (None: the bytes ended, flush what is left), the
        framing's errors naming this provider."""
        try:
            return parser.feed(data) if data is not None else parser.finish()
        except UnicodeDecodeError as exc:
            raise UpstreamProtocolError(
                "upstream stream is not UTF-8", provider=self.provider
            ) from exc
        except UpstreamProtocolError as exc:
            exc.provider = exc.provider or self.provider
            raise


class HttpProvider(Provider[SettingsT]):
    """A provider whose upstream is a JSON-over-HTTP API, sent to through :attr:`api`.

    A subclass declares where the API lives (:attr:`default_base_url`, used when the settings
    name no ``base_url``; :meth:`_base_url` for more), how its streams are framed
    (:attr:`framing`), the headers of its requests (:meth:`_headers`: by default the key as a
    bearer token) and what an error status means (:meth:`_map_error`). ``http``: a client to
    send with instead of one of its own.
    """

    default_base_url: ClassVar[str] = ""
    framing: ClassVar[Framing[Any]] = SSE

    def __init__(
        self,
        name: str,
        settings: SettingsT,
        *,
        catalog: Catalog | None = None,
        http: HttpClient | None = None,
    ) -> None:
        super().__init__(name, settings, catalog=catalog)
        self.api: HttpApi[Any] = HttpApi(
            name,
            base_url=self._base_url(),
            headers=self._headers(),
            map_error=self._map_error,
            framing=self.framing,
            http=http,
            settings=settings,
        )

    def _base_url(self) -> str:
        """The root every request's URL starts with."""
        return (self.settings.base_url or self.default_base_url).rstrip("/")

    def _headers(self) -> dict[str, str]:
        """The headers of every request: JSON, the API key as a bearer token (when there is
        one), then the configured ``headers``."""
        return json_headers(bearer(self.settings.api_key_value()), self.settings.headers)

    @abstractmethod
    def _map_error(self, status: int, headers: Mapping[str, str], body: bytes) -> SwitchyardError:
        """What an error status means (the provider's pure ``map_error``)."""

    async def aclose(self) -> None:
        await self.api.aclose()


def status_error(
    status: int, headers: Mapping[str, str], body: bytes, map_error: ErrorMapper
) -> SwitchyardError:
    """The error a non-2xx reply means, as a client may see it (see the module's docstring)."""
    error = map_error(status, headers, body)
    provider = error.provider or "?"
    payload, text = error_body(body)
    if text is not None:
        logger.warning("provider %r answered %d with a non-JSON body: %s", provider, status, text)
        _reword(error, f"provider {provider!r} answered {status} with a non-JSON body")
    elif payload is None:
        _reword(error, f"provider {provider!r} answered {status} with an empty body")
    if isinstance(error, UpstreamAuthenticationError):
        logger.error(
            "provider %r refused the gateway's credentials (HTTP %d: %s): check its api_key "
            "and headers; its deployments fail over meanwhile",
            provider,
            status,
            error.message,
        )
    return error


def _reword(error: SwitchyardError, message: str) -> None:
    error.message = message
    error.args = (message,)


def bearer(api_key: str | None) -> dict[str, str | None]:
    """The ``authorization`` header of an API that takes its key as a bearer token (None: the
    settings name no key, nothing is sent)."""
    return {"authorization": f"Bearer {api_key}" if api_key else None}


__all__ = ["HttpApi", "HttpProvider", "WholeReply", "bearer", "status_error"]
