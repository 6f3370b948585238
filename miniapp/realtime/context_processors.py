from django.utils.functional import SimpleLazyObject

from miniapp.realtime.events import stream_of


def socket_shard(request) -> dict:
    """`socket_shard`: the stream of the signed-in user's events ("" signed out). The page's
    socket names it (`/ws/activity/?shard=N`) so that a proxy can send every socket of a shard
    to the same workers, and each worker reads only its own shards' streams (README, "Running
    on several machines"). Read only if a template shows it."""

    def shard() -> str:
        user = getattr(request, "user", None)
        return stream_of(user.pk) if user is not None and user.is_authenticated else ""

    return {"socket_shard": SimpleLazyObject(shard)}
