"""`quarry serve`: the HTTP API, its event streams and the web page, over the one engine."""

import argparse
from typing import TYPE_CHECKING

from quarry.agent.cli.arguments import positive_int
from quarry.errors import ExitCode

if TYPE_CHECKING:
    from quarry.agent.settings import Settings


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser(
        "serve",
        help="serve the HTTP API and the web page",
        description="Serve Quarry over HTTP: a versioned JSON API (/v1/…, schema at /openapi.json) with "
        "Server-Sent Event streams of research runs, API-key authentication (quarry keys create), /healthz and "
        "/readyz, and the web page at /. SIGTERM or Ctrl-C stops accepting requests and lets runs in flight "
        "finish within their deadlines.",
        epilog="Defaults come from the service section of config.yaml.",
    )
    parser.add_argument("--host", help="address to listen on (default: service.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: service.port, 8080; 0 picks a free one)")
    parser.add_argument(
        "--workers", type=positive_int, help="processes; each loads the embedding model (default: service.workers)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, settings: "Settings") -> int:
    from quarry.agent.service.server import serve

    service = settings.service
    serve(
        settings,
        host=args.host or service.host,
        port=service.port if args.port is None else args.port,
        workers=args.workers or service.workers,
        config_path=str(args.config) if args.config else None,
    )
    return ExitCode.OK
