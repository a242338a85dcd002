"""The ``gemini`` adapter: Google's Generative Language API (``generateContent``,
``streamGenerateContent?alt=sse``, ``embedContent`` / ``batchEmbedContents``, ``models``).

``translate`` writes request bodies, ``reply`` reads whole replies, ``stream`` reads streamed
chunks, ``errors`` maps error replies, ``wire`` holds the reply shapes; ``adapter`` does the I/O.
"""
