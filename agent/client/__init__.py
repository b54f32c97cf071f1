"""The `quarry` CLI as a client of a Quarry server: with QUARRY_URL and QUARRY_API_KEY set,
`quarry ask/chat/search/runs/spend` send their work to the server (no model loads here)."""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "RemoteClient": "quarry.agent.client.http",
    "remote_from_environment": "quarry.agent.client.http",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
