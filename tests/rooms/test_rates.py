"""The signalling rate limits, on a clock the test moves (no waiting)."""

from __future__ import annotations

from web.rooms.rates import (
    ABUSE,
    MALFORMED,
    SIGNALLING_RATES,
    MessageLimiter,
    PeopleLimits,
    Rate,
    TokenBucket,
    Verdict,
)

HAND = SIGNALLING_RATES["hand"]


class ManualClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket.full(Rate(burst=3, per_second=2.0), clock())
    assert [bucket.take(clock()) for _ in range(4)] == [True, True, True, False]
    clock.advance(0.5)  # one token
    assert [bucket.take(clock()) for _ in range(2)] == [True, False]
    clock.advance(60)  # never more than the burst
    assert sum(bucket.take(clock()) for _ in range(10)) == 3


def test_a_clock_going_backwards_refills_nothing() -> None:
    clock = ManualClock()
    bucket = TokenBucket.full(Rate(burst=1, per_second=1.0), clock())
    assert bucket.take(clock())
    clock.advance(-5)
    assert not bucket.take(clock())
    clock.advance(5.5)  # back to where it was, and half a second more
    assert not bucket.take(clock())
    clock.advance(0.5)
    assert bucket.take(clock())


def test_a_flood_of_hands_is_refused_past_the_burst_and_told_once() -> None:
    clock = ManualClock()
    limiter = MessageLimiter(clock)
    burst = SIGNALLING_RATES["hand"].burst
    verdicts = [limiter.check("hand") for _ in range(burst + 10)]
    assert verdicts[:burst] == [Verdict.ALLOW] * burst
    assert verdicts[burst:] == [Verdict.REFUSE] + [Verdict.REFUSE_QUIETLY] * 9
    assert limiter.refused == 10
    clock.advance(1.0)  # two more a second
    assert [limiter.check("hand") for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.REFUSE]


def test_each_kind_has_its_own_bucket() -> None:
    limiter = MessageLimiter(ManualClock())
    for _ in range(SIGNALLING_RATES["hand"].burst):
        assert limiter.check("hand") == Verdict.ALLOW
    assert limiter.check("hand") == Verdict.REFUSE
    offers = [limiter.check("offer") for _ in range(SIGNALLING_RATES["offer"].burst)]
    assert offers == [Verdict.ALLOW] * SIGNALLING_RATES["offer"].burst, "a join's offers are not held up"
    assert limiter.check("self_mute") == Verdict.ALLOW


def test_unknown_kinds_share_the_malformed_bucket() -> None:
    limiter = MessageLimiter(ManualClock())
    burst = SIGNALLING_RATES[MALFORMED].burst
    kinds = ["dance", MALFORMED, "chat"]
    verdicts = [limiter.check(kinds[n % 3]) for n in range(burst + 1)]
    assert verdicts == [Verdict.ALLOW] * burst + [Verdict.REFUSE]


def test_sustained_abuse_closes_the_connection() -> None:
    clock = ManualClock()
    limiter = MessageLimiter(clock)
    for _ in range(SIGNALLING_RATES["hand"].burst):
        limiter.check("hand")
    verdicts = [limiter.check("hand") for _ in range(ABUSE.burst + 1)]
    assert Verdict.CLOSE not in verdicts[: ABUSE.burst]
    assert verdicts[-1] == Verdict.CLOSE


def test_brushing_a_limit_now_and_then_never_closes() -> None:
    clock = ManualClock()
    limiter = MessageLimiter(clock)
    hand = SIGNALLING_RATES["hand"]
    for _ in range(600):  # ten minutes of clicking twice as fast as allowed
        verdicts = [limiter.check("hand") for _ in range(int(hand.per_second * 2))]
        assert Verdict.CLOSE not in verdicts
        clock.advance(1.0)
    assert limiter.refused >= 600


def test_a_persons_limits_outlast_their_connection_and_idle_ones_are_forgotten() -> None:
    clock = ManualClock()
    people = PeopleLimits(clock)
    joins = SIGNALLING_RATES["join"]
    first = people.of("session-7", "guest:3")
    for _ in range(HAND.burst):
        assert first.check("hand") == Verdict.ALLOW
    again = people.of("session-7", "guest:3")  # connected again: the same limits
    assert again is first
    assert again.check("hand") == Verdict.REFUSE
    assert people.of("session-8", "guest:3").check("hand") == Verdict.ALLOW, "another room, other limits"
    assert people.of("session-7", "user:1").check("hand") == Verdict.ALLOW, "another person"
    assert [again.check("join") for _ in range(joins.burst + 1)][-1] == Verdict.REFUSE
    assert people.forget_after == max(r.burst / r.per_second for r in (*SIGNALLING_RATES.values(), ABUSE))
    clock.advance(people.forget_after + 1)  # every bucket would be full again
    fresh = people.of("session-7", "user:1")
    assert fresh is not first
    assert people.of("session-7", "guest:3") is not first
    assert people.connection() is not people.connection(), "the development room: per connection"
