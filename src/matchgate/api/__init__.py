"""The HTTP API: `create_app(settings)` builds a FastAPI application on its own stores."""

from matchgate.api.app import create_app

__all__ = ["create_app"]
