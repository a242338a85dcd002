"""The library's conversation: ``gateway.conversation(model=..., system=...)``.

    conversation = gateway.conversation(model="smart", system="You are terse.")
    reply = await conversation.say("What is 2+2?")          # a ChatResponse
    async for chunk in conversation.stream_say("And 3+3?"):  # ChatChunks, as gateway.stream
        print(chunk.text or "", end="")
    again = gateway.conversation(id=conversation.id)        # resumed (storage: any process)

The session is stored on first use (``say``, ``stream_say``, ``history`` or ``save``); each
call is a request of its own (a new request id) by the conversation's caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from switchyard.conversations.records import Session, Turn
from switchyard.conversations.service import Conversations
from switchyard.errors import InvalidRequest
from switchyard.types import ChatChunk, ChatResponse, Principal
from switchyard.types.principal import new_request_id


class Conversation:
    def __init__(
        self,
        service: Conversations,
        principal: Principal,
        *,
        id: str | None = None,
        model: str | None = None,
        system: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self._service = service
        self._principal = principal
        self._unsaved: Session | None = None
        if id is None:
            if model is None:
                raise InvalidRequest("a new conversation needs a model", param="model")
            self._unsaved = service.new_session(principal, model, system, metadata)
            id = self._unsaved.id
        elif model is not None or system is not None or metadata is not None:
            raise InvalidRequest(
                "a resumed conversation keeps its model, system prompt and metadata: pass only id",
                param="id",
            )
        self.id = id

    async def save(self) -> None:
        """Store a new conversation now (else its first use does)."""
        if self._unsaved is not None:
            await self._service.keep(self._unsaved)
            self._unsaved = None

    async def say(self, content: str) -> ChatResponse:
        """The assistant's answer to ``content``; both turns are stored."""
        await self.save()
        return await self._service.reply(self._caller(), self.id, content)

    async def stream_say(self, content: str) -> AsyncIterator[ChatChunk]:
        """The answer as chunks; both turns are stored once the stream ended normally
        (nothing when it fails or the loop stops early)."""
        await self.save()
        stream = await self._service.stream_reply(self._caller(), self.id, content)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()

    async def session(self) -> Session:
        await self.save()
        session, _ = await self._service.get(self._principal, self.id)
        return session

    async def history(self) -> list[Turn]:
        """The stored turns, oldest first (at most ``conversations.max_messages``)."""
        await self.save()
        _, turns = await self._service.get(self._principal, self.id)
        return turns

    async def delete(self) -> None:
        await self.save()
        await self._service.delete(self._principal, self.id)

    def _caller(self) -> Principal:
        return self._principal._replace(request_id=new_request_id())


__all__ = ["Conversation"]
