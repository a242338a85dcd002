"""``GET /api/v1/usage/summary``: the usage ledger added up, per group and in total.

Query parameters: ``group_by`` (comma-separated, or repeated: any of tenant, key, user, alias,
provider, model, template, hour, day), ``since`` and ``until`` (ISO 8601; ``since`` inclusive,
``until`` exclusive) and ``tenant``. Who may see what is the Gateway's rule
(:meth:`~switchyard.gateway.Gateway.usage_summary`); this module only reads the query and
renders the answer (:func:`~switchyard.usage.report.summary_json`).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from switchyard.doors.http import JSON, json_error, new_context, principal_of
from switchyard.errors import SwitchyardError
from switchyard.formats.openai_errors import error_to_openai
from switchyard.gateway import Gateway
from switchyard.usage.report import summary_json


class UsageDoor:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def summary(self, request: Request) -> Response:
        context = new_context(request)
        params = request.query_params
        try:
            summary = await self.gateway.usage_summary(
                principal_of(request),
                group_by=",".join(params.getlist("group_by")) or None,
                since=params.get("since"),
                until=params.get("until"),
                tenant=params.get("tenant") or None,
            )
        except SwitchyardError as error:
            return json_error(error, error_to_openai(error), context)
        return Response(
            orjson.dumps(summary_json(summary)), media_type=JSON, headers=context.headers()
        )


__all__ = ["UsageDoor"]
