"""The response cache: exact-match answers per tenant, in memory or in Redis (see
:mod:`switchyard.cache.service`)."""

from switchyard.cache.keys import CacheKey, cache_key
from switchyard.cache.service import CacheLookup, CacheStats, ResponseCache
from switchyard.cache.settings import AliasCacheSettings, CacheSettings

__all__ = [
    "AliasCacheSettings",
    "CacheKey",
    "CacheLookup",
    "CacheSettings",
    "CacheStats",
    "ResponseCache",
    "cache_key",
]
