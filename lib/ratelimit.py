"""Fixed-window counters in the cache, for pages that need no login (password reset, verification).

The counter lives in Django's default cache: per process with the local-memory cache, shared by every
worker once CACHES points at a shared backend. A failed cache answers "not limited" rather than 500.
"""

from django.core.cache import cache


def hit(key: str, *, limit: int, window: int) -> bool:
    """Count one request under ``key``; True when it is beyond ``limit`` in the current window of seconds."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit
