"""The Anthropic-compatible front door (``/v1/messages``), for the official ``anthropic`` SDK."""
