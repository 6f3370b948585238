"""`lib.redis_pool.SharedConnectionPool`: every cache object of a process shares one pool per URL
and options (no connection is made to hand one out)."""

from django.core.cache.backends.redis import RedisCache

from miniapp.lib.redis_pool import SharedConnectionPool

URL = "redis://127.0.0.1:6399/1"  # never connected to: handing out a pool opens nothing


def test_caches_made_apart_share_one_pool():
    options = {"OPTIONS": {"pool_class": "miniapp.lib.redis_pool.SharedConnectionPool"}}
    first, second = RedisCache(URL, options), RedisCache(URL, options)
    pool = first._cache._get_connection_pool(write=True)
    assert isinstance(pool, SharedConnectionPool)
    assert second._cache._get_connection_pool(write=True) is pool


def test_another_url_or_options_get_their_own_pool():
    pool = SharedConnectionPool.from_url(URL)
    assert SharedConnectionPool.from_url(URL) is pool
    assert SharedConnectionPool.from_url("redis://127.0.0.1:6399/2") is not pool
    assert SharedConnectionPool.from_url(URL, socket_timeout=1) is not pool
