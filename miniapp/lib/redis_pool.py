"""One Redis connection pool per process for Django's Redis cache.

Django makes a cache object per async context (`caches` is context-local), so under ASGI every
request got its own `RedisCache`, whose client made its own connection pool, whose first
command opened a new connection (TCP, then the client's handshake): about a fifth of a like
request's time on PostgreSQL + Redis went to it (py-spy, bench/http_cycle.py). Given as the
cache's `pool_class` (a documented option of `RedisCache`), `SharedConnectionPool.from_url`
hands every cache object of the process the same pool for the same URL and options, so
requests reuse its connections. redis-py's pools are thread-safe and start afresh in a forked
child.
"""

import threading

import redis


class SharedConnectionPool(redis.ConnectionPool):
    _shared: dict[tuple, "SharedConnectionPool"] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> "SharedConnectionPool":
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            if (pool := cls._shared.get(key)) is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
        return pool
