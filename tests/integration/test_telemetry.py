"""OpenTelemetry export of run traces, into the SDK's in-memory exporter (no network)."""

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from quarry.agent.components import Components
from quarry.errors import ConfigError
from quarry.graph.engine import ResearchRequest
from quarry.graph.telemetry import RunExporter, TelemetryConfig

pytestmark = pytest.mark.integration


async def test_a_runs_spans_are_exported_as_one_trace_timed_as_they_ran(sample_components):
    memory = InMemorySpanExporter()
    with Components(
        sample_components.settings,
        environ={},
        db=sample_components.db,
        embedder=sample_components.embedder,
        telemetry=RunExporter(memory, "quarry-test"),
    ) as components:
        result = await components.engine.run(ResearchRequest(question="Who leads the team that owns Ledgerline?"))
    spans = memory.get_finished_spans()
    root = next(s for s in spans if s.name == "quarry.run")
    children = [s for s in spans if s is not root]
    assert root.attributes["quarry.run_id"] == result.answer.run_id and root.attributes["quarry.status"] == "complete"
    assert root.resource.attributes["service.name"] == "quarry-test"
    assert [s.name for s in children] == [f"quarry.node.{span.node}" for span in result.trace]
    assert all(
        c.parent.span_id == root.context.span_id and c.context.trace_id == root.context.trace_id for c in children
    )
    assert all(root.start_time <= c.start_time <= c.end_time <= root.end_time + 1_000_000 for c in children)
    search = next(c for c in children if c.name == "quarry.node.search")
    assert search.attributes["quarry.hits"] > 0 and search.attributes["quarry.inputs"]
    assert sum(c.attributes["quarry.tokens"] for c in children) == root.attributes["quarry.tokens"] > 0


def test_no_endpoint_means_no_exporter_and_a_missing_package_is_a_config_error(sample_components):
    assert RunExporter.from_config(TelemetryConfig()) is None
    settings = sample_components.settings.model_copy(
        update={"telemetry": TelemetryConfig(otlp_endpoint="http://127.0.0.1:9/v1/traces")}
    )
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"pip install -e '.\[otel\]'"):
            _ = Components(settings, environ={}).telemetry
    else:
        assert Components(settings, environ={}).telemetry is not None
