"""Wire formats: pure translations between the canonical types and what callers and upstreams
send. Each front door and each provider adapter of the same API shares one codec; import from
the codec's module (``switchyard.formats.openai_chat``).

This package holds the wire models of every API that a door and an adapter both speak (OpenAI
chat, embeddings and errors; Anthropic Messages and its errors), plus :mod:`.json_body`, the
one reading of an upstream's JSON body. An upstream-only API keeps its wire models in its
adapter package (``switchyard.providers.gemini.wire``, ...)."""
