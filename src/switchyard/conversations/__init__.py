"""Conversations: server-side chat history (``/api/v1/sessions``, ``gateway.conversation``).

:mod:`.service` is the feature, :mod:`.fitting` the documented history policy, :mod:`.store`
and :mod:`.sql_store` where sessions live, :mod:`.port` what it needs of the Gateway."""

from switchyard.conversations.conversation import Conversation
from switchyard.conversations.port import ConversationGateway
from switchyard.conversations.records import Owner, Page, Session, Turn
from switchyard.conversations.reply_stream import ReplyStream
from switchyard.conversations.service import Conversations
from switchyard.conversations.store import MemoryStore, SessionStore

__all__ = [
    "Conversation",
    "ConversationGateway",
    "Conversations",
    "MemoryStore",
    "Owner",
    "Page",
    "ReplyStream",
    "Session",
    "SessionStore",
    "Turn",
]
