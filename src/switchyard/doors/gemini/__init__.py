"""The Gemini-compatible front door (``/v1beta/models/...``), for google-genai and gemini-cli."""
