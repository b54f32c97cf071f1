"""Optional OpenTelemetry export of a run's trace: one `quarry.run` span with a child span per node,
timed as they ran, carrying tokens, dollars, outcome, inputs and hit counts as attributes.

Off by default. Configure `telemetry.otlp_endpoint` (OTLP over HTTP) and install the extra
(`pip install -e '.[otel]'`); or hand `RunExporter` any OpenTelemetry `SpanExporter`. Export never
fails a run: an exporter error is logged and the run's own ledger row is unaffected.
"""

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from quarry.errors import TelemetryUnavailable
from quarry.graph.trace import Span

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

_log = logging.getLogger(__name__)


class TelemetryConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    otlp_endpoint: str | None = None
    """e.g. http://localhost:4318/v1/traces; None = no export."""
    service_name: str = "quarry"
    headers: dict[str, str] = Field(default_factory=dict)
    """Sent with every export (an API key for a hosted collector)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FinishedRun:
    run_id: str
    question: str
    principal_id: str
    started_ns: int
    """Wall-clock start, nanoseconds since the epoch."""
    elapsed_ms: float
    status: str
    stopped_by: str | None
    hops: int
    tokens: int
    usd: float
    cache_hit: bool
    spans: tuple[Span, ...]


class RunExporter:
    def __init__(self, exporter: "SpanExporter", service_name: str = "quarry") -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        self._provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self._provider.add_span_processor(SimpleSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("quarry")

    @classmethod
    def from_config(cls, config: TelemetryConfig) -> "RunExporter | None":
        if not config.otlp_endpoint:
            return None
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise TelemetryUnavailable(
                "telemetry.otlp_endpoint is set but OpenTelemetry is not installed: pip install -e '.[otel]'"
            ) from None
        return cls(OTLPSpanExporter(endpoint=config.otlp_endpoint, headers=dict(config.headers)), config.service_name)

    def export(self, run: FinishedRun) -> None:
        from opentelemetry import trace

        try:
            end_ns = run.started_ns + int(run.elapsed_ms * 1e6)
            root = self._tracer.start_span("quarry.run", start_time=run.started_ns, attributes=_run_attributes(run))
            parent = trace.set_span_in_context(root)
            for span in run.spans:
                start = run.started_ns + int(span.start_ms * 1e6)
                child = self._tracer.start_span(
                    f"quarry.node.{span.node}", context=parent, start_time=start, attributes=_span_attributes(span)
                )
                if span.outcome in ("stopped", "failed"):
                    child.set_status(trace.Status(trace.StatusCode.ERROR, span.detail[:200]))
                child.end(end_time=start + int(span.ms * 1e6))
            root.end(end_time=end_ns)
        except Exception:  # telemetry must never fail a run
            _log.warning("exporting the trace of run %s failed", run.run_id, exc_info=True)

    def shutdown(self) -> None:
        self._provider.shutdown()


def _run_attributes(run: FinishedRun) -> dict[str, Any]:
    return {
        "quarry.run_id": run.run_id,
        "quarry.question": run.question,
        "quarry.principal": run.principal_id,
        "quarry.status": run.status,
        "quarry.stopped_by": run.stopped_by or "",
        "quarry.hops": run.hops,
        "quarry.tokens": run.tokens,
        "quarry.usd": run.usd,
        "quarry.cache_hit": run.cache_hit,
    }


def _span_attributes(span: Span) -> dict[str, Any]:
    return {
        "quarry.node": span.node,
        "quarry.outcome": span.outcome,
        "quarry.tokens": span.tokens,
        "quarry.usd": span.usd,
        "quarry.detail": span.detail,
        "quarry.inputs": span.inputs,
        "quarry.hits": len(span.hits),
        "quarry.model_ms": span.model_ms,
        "quarry.retrieval_ms": span.retrieval_ms,
    }
