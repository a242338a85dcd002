"""The OpenAI Responses API door: ``POST /v1/responses`` (plain and streamed),
``GET``/``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``, for Codex CLI
and the ``openai`` SDK's ``responses``."""
