"""Rate limits, token quotas and dollar budgets: counters shared in memory or in Redis."""
