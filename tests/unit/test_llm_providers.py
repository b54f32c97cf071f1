"""`llm` settings for the providers: which client each tier gets, and the models refused at start."""

from pathlib import Path

import pytest

from quarry.agent.models import build_models
from quarry.agent.settings import load_settings
from quarry.errors import ConfigError
from quarry.tools.llm.claude import ClaudeModel
from quarry.tools.llm.config import LLMConfig
from quarry.tools.llm.extractive import ExtractiveModel
from quarry.tools.llm.openai_compat import OpenAICompatModel
from quarry.tools.llm.pricing import ModelPrice

LOCAL = {"qwen2.5:7b-instruct": ModelPrice(input=0, output=0), "llama3.1:8b": ModelPrice(input=0, output=0)}


def config(**values) -> LLMConfig:
    prices = {**LLMConfig().prices, **values.pop("prices", {})}
    return LLMConfig(prices=prices, **values)


def test_auto_still_means_claude_with_a_key_and_offline_without():
    with_key = build_models(LLMConfig(), {"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "o"})
    assert isinstance(with_key.cheap, ClaudeModel) and isinstance(with_key.premium, ClaudeModel) and with_key.online
    without = build_models(LLMConfig(), {"OPENAI_API_KEY": "o"})
    assert isinstance(without.cheap, ExtractiveModel) and not without.online


def test_openai_provider_for_a_local_server_needs_no_key():
    settings = config(
        provider="openai",
        openai_base_url="http://localhost:11434/v1",
        cheap_model="llama3.1:8b",
        premium_model="qwen2.5:7b-instruct",
        prices=LOCAL,
    )
    models = build_models(settings, {})
    assert isinstance(models.cheap, OpenAICompatModel) and isinstance(models.premium, OpenAICompatModel)
    assert (models.cheap.name, models.premium.name) == ("llama3.1:8b", "qwen2.5:7b-instruct")
    assert models.cheap.price.input == 0 and models.online


def test_openais_own_api_needs_its_key():
    settings = config(provider="openai", cheap_model="llama3.1:8b", premium_model="llama3.1:8b", prices=LOCAL)
    with pytest.raises(ConfigError, match=r"uses OpenAI's API but OPENAI_API_KEY is not set"):
        build_models(settings, {})
    models = build_models(settings, {"OPENAI_API_KEY": "sk"})
    assert models.cheap is models.premium


def test_mixed_tiers_a_local_cheap_model_and_claude_synthesis():
    settings = config(
        provider="claude",
        cheap_provider="openai",
        openai_base_url="http://localhost:8000/v1",
        cheap_model="qwen2.5:7b-instruct",
        prices=LOCAL,
    )
    models = build_models(settings, {"ANTHROPIC_API_KEY": "k"})
    assert isinstance(models.cheap, OpenAICompatModel) and isinstance(models.premium, ClaudeModel)
    assert models.premium.name == "claude-sonnet-5-5"
    with pytest.raises(ConfigError, match=r"llm.provider is 'claude' but ANTHROPIC_API_KEY is not set"):
        build_models(settings, {})
    local_first = config(provider="openai", premium_provider="claude", cheap_model="llama3.1:8b", prices=LOCAL)
    with pytest.raises(ConfigError, match=r"llm.premium_provider is 'claude' but ANTHROPIC_API_KEY is not set"):
        build_models(local_first, {"OPENAI_API_KEY": "sk"})


def test_an_unpriced_model_is_refused_at_start_not_priced_at_zero(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("llm:\n  provider: openai\n  cheap_model: mistral-nemo\n  premium_model: mistral-nemo\n")
    with pytest.raises(
        ConfigError, match=r"cheap_model 'mistral-nemo' has no entry in llm.prices .*0 for a local model"
    ):
        load_settings(path, environ={})


def test_a_claude_model_name_on_the_openai_provider_is_refused():
    with pytest.raises(ValueError, match=r"premium_model 'claude-sonnet-5-5' is a Claude model but the premium tier"):
        config(provider="openai", cheap_model="llama3.1:8b", prices=LOCAL)


def test_tier_providers_need_an_online_provider():
    with pytest.raises(ValueError, match=r"need llm.provider claude or openai, not 'auto'"):
        config(cheap_provider="openai", cheap_model="llama3.1:8b", prices=LOCAL)


def test_a_per_model_safety_factor_overrides_the_default():
    prices = {"llama3.1:8b": ModelPrice(input=0, output=0, safety_factor=1.6)}
    settings = config(
        provider="openai",
        openai_base_url="http://x/v1",
        cheap_model="llama3.1:8b",
        premium_model="llama3.1:8b",
        prices=prices,
    )
    model = build_models(settings, {}).cheap
    assert isinstance(model, OpenAICompatModel) and model.estimator.factor == 1.6


def test_streaming_is_off_by_default_and_can_be_set_from_the_environment():
    assert LLMConfig().openai_stream is False
    assert load_settings(None, environ={"QUARRY_LLM__OPENAI_STREAM": "true"}).llm.openai_stream is True


def test_the_streaming_setting_reaches_every_openai_tier():
    local = {"provider": "openai", "openai_base_url": "http://localhost:11434/v1", "prices": LOCAL}
    tiers = {"cheap_model": "llama3.1:8b", "premium_model": "qwen2.5:7b-instruct"}
    streamed = build_models(config(**local, **tiers, openai_stream=True), {})
    plain = build_models(config(**local, **tiers), {})
    assert isinstance(streamed.cheap, OpenAICompatModel) and isinstance(streamed.premium, OpenAICompatModel)
    assert streamed.cheap.stream and streamed.premium.stream
    assert isinstance(plain.premium, OpenAICompatModel) and not plain.premium.stream
