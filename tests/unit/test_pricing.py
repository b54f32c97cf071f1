import pytest

from quarry.tools.llm.config import DEFAULT_PRICES, LLMConfig
from quarry.tools.llm.pricing import Usage, affordable_output, cost_usd, worst_case_usd

HAIKU = DEFAULT_PRICES["claude-haiku-5-5"]


def test_long_prompts_pay_the_long_prompt_rates_on_every_token():
    short = Usage(input_tokens=100_000, output_tokens=1_000)
    long = Usage(input_tokens=100_001, output_tokens=1_000)
    assert cost_usd(HAIKU, short) == pytest.approx((100_000 * 0.10 + 1_000 * 0.50) / 1e6)
    assert cost_usd(HAIKU, long) == pytest.approx((100_001 * 0.50 + 1_000 * 2.50) / 1e6)
    assert worst_case_usd(HAIKU, 100_001, 1_000) == pytest.approx((100_001 * 0.625 + 1_000 * 2.50) / 1e6)


def test_affordable_output_never_overspends():
    sonnet = DEFAULT_PRICES["claude-sonnet-5-5"]
    for usd in (0.0, 0.001, 0.01, 0.37):
        out = affordable_output(sonnet, 500, usd)
        assert out == 0 or worst_case_usd(sonnet, 500, out) <= usd + 1e-12
        assert worst_case_usd(sonnet, 500, out + 1) > usd
    assert affordable_output(sonnet, 500, 0.0) == 0


def test_a_tier_model_without_a_price_is_a_config_error():
    with pytest.raises(ValueError, match=r"premium_model 'claude-next' has no entry in llm.prices"):
        LLMConfig(premium_model="claude-next")
