"""The hot score: like velocity with an exponential time decay, kept up to date in one column.

Every like counts `exp(-age / TAU)`: a like from one half-life ago counts half, one from two
half-lives ago a quarter. The upload itself counts as `FRESH_WEIGHT` likes given at upload
time, so a new video gets a chance before anyone has liked it. The sum changes with the clock,
but the ORDER of videos by it does not: multiplying every term by `exp(now / TAU)` turns the
sum into one that never changes with time,

    hot = ln( FRESH_WEIGHT * e^(x(created)) + sum over likes of e^(x(liked)) ),
    x(t) = (t - EPOCH) / TAU,

so it can be stored, updated by each like (in the same UPDATE as the counter) and unlike, and
indexed (`video_hot`). Sums are kept in log space, so nothing overflows.
"""

import math
from datetime import UTC, datetime

from django.db.models import F, Value
from django.db.models.functions import Exp, Ln

HALF_LIFE_HOURS = 24
TAU = HALF_LIFE_HOURS * 3600 / math.log(2)  # seconds
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
FRESH_WEIGHT = 3


def point(moment: datetime) -> float:
    """x(t): where a moment sits on the decay scale."""
    return (moment - EPOCH).total_seconds() / TAU


def base(created: datetime) -> float:
    """The hot score of a video nobody has liked yet."""
    return point(created) + math.log(FRESH_WEIGHT)


def score(created: datetime, liked: list[datetime]) -> float:
    """The hot score from scratch (tests, data migrations, seeding)."""
    terms = [base(created)] + [point(moment) for moment in liked]
    top = max(terms)
    return top + math.log(sum(math.exp(term - top) for term in terms))


def plus_like(liked: datetime):
    """An expression for `hot` after one more like: ln(e^hot + e^x)."""
    x = point(liked)
    return Value(x) + Ln(Value(1.0) + Exp(F("hot") - Value(x)))


def without_like(hot: float, *, liked: datetime, created: datetime) -> float | None:
    """`hot` after the like given at `liked` is taken back: ln(e^hot - e^x).

    None when that like outweighs the rest so much that floating point cannot tell what is
    left: the caller then counts the remaining likes again (`score`). Never below the score
    of an unliked video.
    """
    share = math.exp(point(liked) - hot)
    if share > 1 - 1e-6:
        return None
    return max(hot + math.log1p(-share), base(created))
