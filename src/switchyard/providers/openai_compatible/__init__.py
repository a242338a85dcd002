"""OpenAI-compatible services as presets: data rows over the ``openai`` adapter's code path.

A service that speaks OpenAI's chat-completions API is a :class:`~.preset.Preset` in
:data:`~.presets.PRESETS`: its settings model (``settings.py``), default ``base_url``, auth
style, headers, capabilities and :class:`~.preset.Quirks`. The quirks are applied by pure
functions keyed by their fields (``request.py``, ``reply.py``, ``json_schema.py``), never by
the service's name; ``adapter.py`` wires them into :class:`ChatCompletionsProvider`.

Adding a service: write its settings model (``type: Literal["name"]``, plus any fields of its
own), add a ``Preset`` row, and add the model to ``PresetConfig``; the registry picks the row
up from ``PRESET_ADAPTERS``.
"""
