"""Conversations: sessions that keep their history server-side, for the native REST API
(``/api/v1/sessions``) and the library (``gateway.conversation(...)``).

A session belongs to its creator (:class:`~switchyard.conversations.records.Owner`); anybody
else gets 404. A reply is prepared here (the session's history fitted to the model's window,
see :mod:`.fitting`, maybe summarised, see :mod:`.summary`), asked of the Gateway (the one
lifecycle: authorize, limits, budget, cache, routing, accounting), and stored with the user's
message as one pair, only once the answer is whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from switchyard.config.schema import ConversationSettings
from switchyard.conversations.fitting import Fitted, as_message, fit, summary_message
from switchyard.conversations.port import ConversationGateway
from switchyard.conversations.records import Owner, Page, Session, Summary, Turn
from switchyard.conversations.reply_stream import ReplyStream
from switchyard.conversations.store import SessionStore
from switchyard.conversations.summary import summary_request
from switchyard.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
    SwitchyardError,
)
from switchyard.records.record import RequestKind
from switchyard.types import ChatRequest, ChatResponse, Cost, Message, Principal, ServedBy, Usage

MAX_METADATA_KEYS = 16  # OpenAI's metadata rules: 16 pairs, 64-character keys, 512 values
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_SESSION_ID = 64

log = logging.getLogger("switchyard.conversations")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A reply about to be asked for: the request, and what to store once it is answered."""

    session: Session
    request: ChatRequest
    user_turn: Turn
    summary: Summary | None


class Conversations:
    def __init__(
        self, settings: ConversationSettings, store: SessionStore, gateway: ConversationGateway
    ) -> None:
        self.settings = settings
        self.store = store
        self._gateway = gateway

    # -- sessions ---------------------------------------------------------------------------

    async def create(
        self,
        principal: Principal,
        model: str,
        system: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Session:
        """A new session of ``principal``'s; 403 when it may not use ``model``, 404 when there
        is no such model, 409 when it has ``max_sessions`` already."""
        session = self.new_session(principal, model, system, metadata)
        await self.keep(session)
        return session

    async def keep(self, session: Session) -> None:
        """Store a session made by :meth:`new_session`; 409 when its owner has
        ``max_sessions`` already."""
        await self.store.create(session, self.settings.max_sessions)

    def new_session(
        self,
        principal: Principal,
        model: str,
        system: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Session:
        """A session checked but not stored yet (the library stores it on its first use)."""
        self._gateway.context_window(model, principal)  # authorized, and a model that exists
        if system is not None:
            self._check_size(system, "system")
        return Session.new(Owner.of(principal), model, system, _checked_metadata(metadata))

    async def get(self, principal: Principal, session_id: str) -> tuple[Session, list[Turn]]:
        session = await self._owned(principal, session_id)
        return session, await self.store.turns(session)

    async def page(
        self, principal: Principal, limit: int | None = None, after: str | None = None
    ) -> Page:
        """``principal``'s sessions, newest first; ``after``: the last id of the page before."""
        maximum = self.settings.max_page_size
        if limit is None:
            limit = self.settings.page_size
        if not 1 <= limit <= maximum:
            raise InvalidRequest(f"limit must be from 1 to {maximum}", param="limit")
        if after is not None and len(after) > MAX_SESSION_ID:
            raise InvalidRequest("after is not a session id", param="after")
        return await self.store.page(Owner.of(principal), limit, after)

    async def delete(self, principal: Principal, session_id: str) -> None:
        if not await self.store.delete(Owner.of(principal), session_id):
            raise _not_found(session_id)

    # -- replies ----------------------------------------------------------------------------

    async def reply(self, principal: Principal, session_id: str, content: str) -> ChatResponse:
        """Answer ``content`` in the session and store both turns."""
        prepared = await self.prepare(principal, session_id, content)
        try:
            response = await self._gateway.chat(prepared.request, principal=principal)
            await self._store_pair(
                prepared,
                principal,
                response.text,
                response.usage,
                response.cost,
                response.served_by,
            )
        except BaseException:
            await self._release(prepared.session)
            raise
        return response

    async def stream_reply(
        self, principal: Principal, session_id: str, content: str
    ) -> ReplyStream:
        """Answer ``content`` as a stream; both turns are stored when it ends normally, and the
        session is free again however it ends."""
        prepared = await self.prepare(principal, session_id, content, "stream")
        try:
            stream = self._gateway.stream(prepared.request, principal=principal)
        except BaseException:
            await self._release(prepared.session)
            raise

        async def stored(
            text: str, usage: Usage | None, cost: Cost | None, served_by: ServedBy | None
        ) -> None:
            await self._store_pair(prepared, principal, text, usage, cost, served_by)

        async def abandoned() -> None:
            await self._release(prepared.session)

        return ReplyStream(stream, stored, abandoned)

    async def prepare(
        self, principal: Principal, session_id: str, content: str, kind: RequestKind = "chat"
    ) -> Prepared:
        """The request for the next reply: the history fitted to the window (and the dropped
        turns summarised, when ``summarise_with`` is set). A message refused here (too long,
        not fitting the window, or the session busy with another reply) is recorded as a
        refused request of ``kind``, like any.

        The session is claimed first (one reply at a time, or two replies would each answer
        a history without the other's turns and both be stored after it): whoever prepared
        must store the pair (which frees it) or :meth:`_release` it."""
        session = await self._owned(principal, session_id)
        if not await self.store.claim(session, self.settings.busy_seconds):
            error = Conflict(
                f"session {session.id!r} is answering another message: send this one when "
                "that reply has ended",
                param="session_id",
            )
            self._gateway.refused(principal, kind, session.model, error)
            raise error
        try:
            return await self._prepare(principal, session, content, kind)
        except BaseException:
            await self._release(session)
            raise

    async def _prepare(
        self, principal: Principal, session: Session, content: str, kind: RequestKind
    ) -> Prepared:
        history = await self.store.turns(session)
        summariser = self.settings.summarise_with
        summary = None
        if summariser is not None:  # the turns a summary stands for are not sent again
            summary = session.summary
            history = [turn for turn in history if turn.id > session.summary_through]
        system = None if session.system is None else Message(role="system", content=session.system)
        try:
            new = self._message(content)
            fixed = [m for m in (system, new) if m is not None]
            fitted = self._fit(principal, session.model, fixed, history)
        except SwitchyardError as error:  # before any model was asked: still one usage row
            self._gateway.refused(principal, kind, session.model, error)
            raise
        made = None
        if fitted.dropped and summariser is not None:
            summary = await self._summarise(principal, summariser, summary, fitted.dropped)
            made = Summary(summary, fitted.dropped[-1].id)
        messages = [] if system is None else [system]
        if summary is not None:
            messages.append(summary_message(summary))
        messages += [as_message(turn) for turn in fitted.kept]
        messages.append(new)
        request = ChatRequest(model=session.model, messages=messages)
        user_turn = Turn(role="user", content=content, request_id=principal.request_id)
        return Prepared(session, request, user_turn, made)

    async def _summarise(
        self, principal: Principal, summariser: str, previous: str | None, dropped: list[Turn]
    ) -> str:
        """A summary of ``previous`` and the ``dropped`` turns by ``summariser``, through the
        gateway. Turns too many for the summariser's own window are left out oldest first
        (fitted as a conversation is), so a long history never makes every later message
        fail."""
        maximum = self.settings.summary_max_tokens
        request = summary_request(summariser, previous, [], maximum)
        window = self._gateway.context_window(summariser, principal)
        room = None if window is None else window - maximum
        count = self._counter(principal, summariser)
        fitted = fit([*request.messages], dropped, room=room, count=count)
        request = summary_request(summariser, previous, fitted.kept, maximum)
        return (await self._gateway.chat(request, principal=principal)).text

    def _counter(self, principal: Principal, model: str) -> Callable[[Message], int]:
        """Tokens of one message for ``model``, as the gateway counts them."""

        def count(message: Message) -> int:
            one = ChatRequest(model=model, messages=[message])
            return self._gateway.count_tokens(one, principal)

        return count

    def _message(self, content: str) -> Message:
        if not isinstance(content, str) or not content:
            raise InvalidRequest("content must be a non-empty string", param="content")
        self._check_size(content, "content")
        return Message(role="user", content=content)

    def _fit(
        self, principal: Principal, model: str, fixed: list[Message], history: list[Turn]
    ) -> Fitted:
        """``history`` fitted into ``model``'s window beside the ``fixed`` messages."""
        settings = self.settings
        window = self._gateway.context_window(model, principal)
        room = None
        if window is not None:
            room = window - settings.reply_reserve_tokens
            if settings.summarise_with is not None:
                room -= settings.summary_max_tokens
        return fit(fixed, history, room=room, count=self._counter(principal, model))

    async def _store_pair(
        self,
        prepared: Prepared,
        principal: Principal,
        text: str,
        usage: Usage | None,
        cost: Cost | None,
        served_by: ServedBy | None,
    ) -> None:
        answer = Turn(
            role="assistant",
            content=text,
            request_id=principal.request_id,
            provider=None if served_by is None else served_by.provider,
            model=None if served_by is None else served_by.model,
            usage=usage,
            cost=cost,
        )
        await self.store.append(
            prepared.session,
            [prepared.user_turn, answer],
            self.settings.max_messages,
            prepared.summary,
        )

    async def _release(self, session: Session) -> None:
        """Free a claimed session whose reply will not be stored. Shielded, so a cancelled
        request (its client gone) still frees it; a database that fails here only delays
        that until the claim expires (``busy_seconds``)."""
        try:
            await asyncio.shield(self.store.release(session))
        except StorageUnavailable as error:
            log.warning("session %s stays busy until its claim expires: %s", session.id, error)

    # -- shared -----------------------------------------------------------------------------

    async def _owned(self, principal: Principal, session_id: str) -> Session:
        session = None
        if len(session_id) <= MAX_SESSION_ID:
            session = await self.store.get(Owner.of(principal), session_id)
        if session is None:
            raise _not_found(session_id)
        return session

    def _check_size(self, text: str, field: str) -> None:
        limit = self.settings.max_message_chars
        if len(text) > limit:
            raise PayloadTooLarge(
                f"{field} is longer than {limit} characters (conversations.max_message_chars)",
                param=field,
            )


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"no session {session_id[:MAX_SESSION_ID]!r}", param="session_id")


def _checked_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidRequest(f"metadata: at most {MAX_METADATA_KEYS} keys", param="metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_METADATA_KEY:
            raise InvalidRequest(
                f"metadata: keys are 1 to {MAX_METADATA_KEY} characters", param="metadata"
            )
        if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise InvalidRequest(
                f"metadata.{key}: a string of at most {MAX_METADATA_VALUE} characters",
                param=f"metadata.{key}",
            )
    return dict(metadata)


__all__ = ["MAX_METADATA_KEYS", "Conversations", "Prepared"]
