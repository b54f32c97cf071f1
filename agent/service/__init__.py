"""The HTTP service (`quarry serve`): a versioned JSON API with Server-Sent Event streams over the one
engine, API-key authentication, and the web page. One more front door, like the CLI.

Names are re-exported lazily, so importing the package loads neither FastAPI nor the engine.
"""

from quarry.corpus.exports import lazy_exports

_EXPORTS = {
    "ApiKeyStore": "quarry.agent.service.keys",
    "ServiceConfig": "quarry.agent.service.config",
    "create_app": "quarry.agent.service.app",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
