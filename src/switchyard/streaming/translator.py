"""What a provider's stream translator is: upstream events in, canonical chunks out.

Reading a stream takes three steps in three places. Framing (:mod:`.framing`) turns bytes into
events; a provider's translator turns each event into :class:`~switchyard.types.ChatChunk`\\ s;
the HTTP helper (:mod:`switchyard.providers.http_api`) owns the connection and the loop that
joins them. A translator does no I/O and reads no clock: fed a recorded stream it gives the
same chunks every time, so it is tested with the providers' documented payloads alone.

Its state is small and explicit (the stream's id, a tool-call index map, the usage so far) and
lives for one stream. The loop feeds every event in order until :attr:`~StreamTranslator.done`
says the upstream's last event came (the connection is then released at once, whatever bytes
follow), or until the bytes end: then :meth:`~StreamTranslator.finish` gives the closing chunks,
or raises ``ProviderUnavailable`` for a stream that was cut before its end.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from switchyard.types import ChatChunk

EventT_contra = TypeVar("EventT_contra", contravariant=True)


class StreamTranslator(Protocol[EventT_contra]):
    """One stream's translation. ``EventT_contra`` is what the framing gives: an
    :class:`~switchyard.streaming.sse.SseEvent`, or an NDJSON line's parsed value."""

    @property
    def done(self) -> bool:
        """The upstream's last event came: nothing more is read, :meth:`finish` is not called."""
        ...

    def feed(self, event: EventT_contra) -> list[ChatChunk]:
        """The chunks one event gives (often none); raises the taxonomy error an error event
        means, ``UpstreamProtocolError`` for an event it cannot read."""
        ...

    def finish(self) -> list[ChatChunk]:
        """The bytes ended before :attr:`done`: the closing chunks of a stream whose end is
        the end of its body, else ``ProviderUnavailable`` (the stream was cut)."""
        ...


__all__ = ["StreamTranslator"]
