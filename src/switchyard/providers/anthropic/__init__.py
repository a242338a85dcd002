"""The ``anthropic`` adapter: Anthropic's Messages API (``POST /v1/messages``).

``settings`` (config), ``translate`` (canonical request -> wire body), ``caching`` (prompt-cache
breakpoints), ``json_mode`` (JSON by instruction, checked on the way back), ``reply`` (wire
message -> canonical response), ``stream`` (SSE events -> canonical chunks), ``errors`` (wire
errors -> taxonomy) are pure; ``adapter`` does the I/O. The wire models they read with are
shared with a Messages front door: :mod:`switchyard.formats.anthropic_messages` and
:mod:`switchyard.formats.anthropic_errors`.
"""
