"""Guardrails: checks on a request's input and filters on its answer (``guardrails:`` on a
model alias or a tenant): regular expressions, word lists, personal data and credentials,
lengths, and a JSON Schema for answers. See :mod:`switchyard.guardrails.policy`."""

from switchyard.guardrails.policy import Policy, StreamGuard, policy_for
from switchyard.guardrails.settings import GuardrailSettings, check_names

__all__ = ["GuardrailSettings", "Policy", "StreamGuard", "check_names", "policy_for"]
