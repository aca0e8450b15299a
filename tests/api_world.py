"""A small world for the API tests: a master store, an agreement, users of every role, and one
batch submitted through the API and run by the worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from matchgate.api import create_app
from matchgate.examples import example_path
from matchgate.master.generate import GenerateReport
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.users import add_user
from matchgate.worker import Worker

AGENCY = "Immigration enforcement agency"
ROLES = ("requester", "reviewer", "disclosure_officer", "auditor")


@dataclass
class World:
    settings: Settings
    services: Services
    client: TestClient
    tokens: dict[str, str]  # role -> token; "other_requester" is another agency's requester
    population: GenerateReport
    batch_id: str = ""

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def submit(self, who: str = "requester", *, key: str | None = None,
               content: bytes | None = None) -> tuple[int, dict[str, object]]:
        data = content if content is not None else self.population.requests_path.read_bytes()
        headers = self.auth(who) | ({"Idempotency-Key": key} if key else {})
        r = self.client.post("/api/v1/batches", headers=headers, files={
            "file": ("requests.csv", data, "text/csv"),
            "manifest": ("manifest.toml", self.population.manifest_path.read_bytes(),
                         "application/toml")})
        return r.status_code, r.json()

    def worker(self, name: str = "w1") -> Worker:
        return Worker(self.services, name=name)


def make_world(home: Path, database_url: str, master: Path, population: GenerateReport
               ) -> Iterator[World]:
    settings = Settings(home=home, database_url=database_url, match_store=master,
                        worker_lease_seconds=30)
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    tokens = {role: add_user(services.store, name=f"{role}-1", role=role,
                             agency=AGENCY if role == "requester" else None) for role in ROLES}
    tokens["other_requester"] = add_user(services.store, name="other-1", role="requester",
                                         agency="Another agency")
    with TestClient(create_app(settings, services=services)) as client:
        world = World(settings, services, client, tokens, population)
        status, body = world.submit()
        assert status == 202, body
        world.batch_id = str(body["batch_id"])
        assert world.worker().run_once() == world.batch_id
        yield world
    services.store.close()
