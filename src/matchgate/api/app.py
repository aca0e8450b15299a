"""The application factory: every app gets its own stores, so every test can build its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from matchgate import web
from matchgate.api import errors, ratelimit, routes_audit, routes_batches, routes_review
from matchgate.api.body_limit import BodyLimit
from matchgate.api.single import FastPaths
from matchgate.review import ReviewQueue
from matchgate.service import Services
from matchgate.settings import Settings


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """Build the API on the stores named by `settings` (or on `services` already open)."""
    services = services or Services.open(settings)
    fastpaths = FastPaths(settings.resolved_match_store())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm_up and fastpaths.store_path.exists():
            app.state.warm_up = fastpaths.warm_up_in_background()
        yield

    app = FastAPI(title="matchgate", version="0.1.0", lifespan=lifespan,
                  description="Identity verification under a disclosure agreement "
                              "(26 U.S.C. 6103): requesters submit batches and read their "
                              "answers; custodian staff review; auditors read everything.")
    app.state.services = services
    app.state.settings = settings
    app.state.review_queue = ReviewQueue(
        store=services.store, master_path=settings.resolved_match_store(),
        claim_ttl=timedelta(seconds=settings.review_claim_seconds))
    app.state.fastpaths = fastpaths
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 256 * 1024)  # + manifest
    ratelimit.install(app, services.store)
    for module in (routes_batches, routes_review, routes_audit):
        app.include_router(module.router)
    web.install(app)
    return app
