"""The recorded chat exchanges (OpenAI's and Azure's) the chat codec tests replay."""

from __future__ import annotations

from tests.fakes.cassettes import cassette_names

CHAT_CASSETTES = [*cassette_names("chat-"), *cassette_names("azure-chat-")]
