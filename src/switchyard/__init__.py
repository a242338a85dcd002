"""Switchyard: one library and one HTTP service in front of every model provider."""
