"""The `service:` section of config.yaml: where `quarry serve` listens and what it accepts."""

from pydantic import BaseModel, ConfigDict, Field


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """Processes; each loads the embedding model (about 300 MB) and keeps its own failed-auth counts."""
    max_body_bytes: int = Field(default=1_000_000, ge=1024, le=100_000_000)
    """A JSON request body larger than this is refused (413) before it is read whole."""
    max_upload_bytes: int = Field(default=10_000_000, ge=1024, le=1_000_000_000)
    """A document upload (POST /v1/documents) larger than this is refused (413)."""
    body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    """A client must send its whole request body within this many seconds (408 otherwise)."""
    header_timeout_s: float = Field(default=10.0, gt=0, le=600)
    """A connection must send a complete request head within this many seconds of opening or of its
    last response, or it is closed (slowloris)."""
    keep_alive_s: int = Field(default=5, ge=1, le=600)
    max_connections: int = Field(default=256, ge=1, le=100_000)
    """Concurrent connections and requests beyond this are answered 503."""
    shutdown_grace_s: float | None = Field(default=None, gt=0, le=3600)
    """How long SIGTERM waits for in-flight runs; None: research.budget.max_seconds plus 5 s."""
    auth_failures_per_minute: int = Field(default=10, ge=1, le=10_000)
    """Failed authentications one client address may make in a minute before it is answered 429."""
