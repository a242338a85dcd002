"""Stored Responses API responses: what ``previous_response_id`` continues and
``GET``/``DELETE /v1/responses/{id}`` read, in the ``storage`` database when there is one, else
in a bounded in-memory LRU."""
