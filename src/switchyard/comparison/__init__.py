"""Essay comparison (comparative judgement): which of two essays answers a task better.

``POST /api/v1/comparison`` and ``await gateway.compare(...)`` both run
:func:`~switchyard.comparison.judge.compare`: the prompt (:mod:`.prompt`) and the answer's
validation (:mod:`.answer`) are pure, the order-bias rule is :mod:`.orders`, and every model
call is an ordinary gateway request.
"""

from switchyard.comparison.answer import Judgement, UnusableAnswer
from switchyard.comparison.judge import Comparison, ComparisonGateway, compare, plan_comparison
from switchyard.comparison.request import (
    ComparisonRequest,
    ComparisonResult,
    parse_comparison,
)

__all__ = [
    "Comparison",
    "ComparisonGateway",
    "ComparisonRequest",
    "ComparisonResult",
    "Judgement",
    "UnusableAnswer",
    "compare",
    "parse_comparison",
    "plan_comparison",
]
