import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quarry.errors import BudgetExceeded
from quarry.graph.budget import BudgetPool, Limits, Spend
from quarry.tools.llm.pricing import ModelPrice, Usage, cost_usd, worst_case_usd

PRICE = ModelPrice(input=3.0, output=15.0, cache_write=3.75, cache_read=0.3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reserve_settle_refunds_the_unused_part():
    pool = BudgetPool(Limits(max_tokens=1000, max_usd=1.0))
    hold = pool.reserve("synthesize", 800, 0.5)
    assert pool.remaining().tokens == 200
    spend = pool.settle(hold, Usage(input_tokens=300, output_tokens=100), 0.2)
    assert pool.remaining().tokens == 600 and pool.remaining().usd == pytest.approx(0.8)
    assert spend.by_node["synthesize"].tokens == 400 and spend.by_node["synthesize"].calls == 1


def test_each_limit_names_itself_when_it_refuses():
    clock = FakeClock()
    pool = BudgetPool(Limits(max_tokens=100, max_usd=0.01, max_seconds=10, finalize_reserve_seconds=1), clock=clock)
    with pytest.raises(BudgetExceeded) as tokens:
        pool.reserve("plan", 101, 0.0)
    assert tokens.value.reason == "tokens" and isinstance(tokens.value, RuntimeError)
    with pytest.raises(BudgetExceeded) as cost:
        pool.reserve("plan", 10, 0.02)
    assert cost.value.reason == "cost"
    clock.now += 9.5  # inside finalize's reserved second
    with pytest.raises(BudgetExceeded) as late:
        pool.reserve("plan", 1, 0.0)
    assert late.value.reason == "deadline"
    assert pool.reserve("finalize", 1, 0.0, for_finalize=True).node == "finalize"


def test_finalize_reserve_is_held_back_from_ordinary_nodes():
    pool = BudgetPool(Limits(max_tokens=1000, max_usd=1.0, finalize_reserve_tokens=300, finalize_reserve_usd=0.25))
    assert pool.remaining().tokens == 700 and pool.remaining().usd == pytest.approx(0.75)
    assert pool.remaining(for_finalize=True).tokens == 1000
    with pytest.raises(BudgetExceeded):
        pool.reserve("synthesize", 701, 0.0)


def test_release_refunds_everything():
    pool = BudgetPool(Limits(max_tokens=100))
    pool.release(pool.reserve("rerank", 100, 0.0))
    assert pool.remaining().tokens == 100 and pool.spent() == (0, 0.0)


@settings(max_examples=60, deadline=None)
@given(
    max_tokens=st.integers(1, 5000),
    max_usd=st.floats(0.0, 1.0),
    calls=st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 1000), st.floats(0.0, 1.0)), max_size=40),
)
def test_concurrent_branches_never_jointly_pass_a_ceiling(max_tokens, max_usd, calls):
    """Threads reserve worst cases and settle with usage at most that worst case: totals stay under both ceilings."""
    pool = BudgetPool(Limits(max_tokens=max_tokens, max_usd=max_usd, max_seconds=3600))
    spends: list[Spend] = []
    lock = threading.Lock()

    def branch(input_tokens: int, max_out: int, used_fraction: float) -> None:
        worst = worst_case_usd(PRICE, input_tokens, max_out)
        try:
            hold = pool.reserve("search", input_tokens + max_out, worst)
        except BudgetExceeded:
            return
        usage = Usage(input_tokens=input_tokens, output_tokens=int(max_out * used_fraction))
        spend = pool.settle(hold, usage, cost_usd(PRICE, usage))
        with lock:
            spends.append(spend)

    threads = [threading.Thread(target=branch, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Spend()
    for spend in spends:
        total = Spend.merge(total, spend)
    tokens, usd = pool.spent()
    assert tokens == total.tokens <= max_tokens
    assert usd == pytest.approx(total.usd) and usd <= max_usd + 1e-9
    assert pool.overruns == 0


def test_merge_is_the_sum_per_node_and_order_free():
    a = Spend.of("plan", Usage(10, 5), 0.1)
    b = Spend.of("synthesize", Usage(100, 50), 1.0)
    c = Spend.of("plan", Usage(1, 1), 0.01)
    left = Spend.merge(Spend.merge(a, b), c)
    right = Spend.merge(c, Spend.merge(b, a))
    assert left == right
    assert left.by_node["plan"].tokens == 17 and left.by_node["plan"].calls == 2
    assert left.usd == pytest.approx(1.11)
    assert Spend.merge(None, a) == a and Spend.merge(a, None) == a


def test_cost_and_worst_case():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_write_tokens=0, cache_read_tokens=1_000_000)
    assert cost_usd(PRICE, usage) == pytest.approx(3.0 + 15.0 + 0.3)
    assert worst_case_usd(PRICE, 1_000_000, 1_000_000) == pytest.approx(3.75 + 15.0)


def test_limits_validate_the_reserve():
    with pytest.raises(ValueError, match=r"finalize_reserve_seconds \(5.0\) must be below max_seconds \(5.0\)"):
        Limits(max_seconds=5, finalize_reserve_seconds=5)
