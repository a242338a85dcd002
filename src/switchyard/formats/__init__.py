"""Wire formats: pure translations between the canonical types and what callers and upstreams
send. Each front door and each provider adapter of the same API shares one codec; import from
the codec's module (``switchyard.formats.openai_chat``)."""
