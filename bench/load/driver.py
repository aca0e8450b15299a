"""The load: concurrent clients on loopback (httpx, asyncio) for a bounded time.

Four kinds of client, each a closed loop (the next call once the last is answered):
- single: POST /api/v1/requests, one request each, answered at once (the fast path);
- batch: POST /api/v1/batches with a small batch, poll its status until the worker is done,
  then GET its responses (every request answered once);
- poll: GET /api/v1/batches/{id} of batches submitted so far (and now and then the list);
- reviewer: GET /api/v1/reviews, claim an item (409 if another reviewer got it first), decide it.

Every call's latency is recorded under its route, with its status (or the transport error).
What was acknowledged (the batch id of every 200 or 202, the request ids in it, the answer a
single request got, each review decided) is kept for the checks afterwards (check.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from bench.load.world import World

API = "/api/v1"


@dataclass
class Mix:
    """How many clients of each kind (the rest are single-request clients)."""

    batch: int
    poll: int
    reviewer: int
    single: int

    @classmethod
    def of(cls, clients: int) -> Mix:
        batch, poll, reviewer = (max(1, round(clients * share)) for share in (0.16, 0.10, 0.14))
        return cls(batch=batch, poll=poll, reviewer=reviewer,
                   single=max(1, clients - batch - poll - reviewer))


@dataclass
class Recorder:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    async def call(self, route: str, send: Any) -> httpx.Response | None:
        """Time one call; None when it failed below HTTP (counted as 'transport')."""
        started = time.perf_counter()
        try:
            response: httpx.Response = await send
        except httpx.HTTPError as exc:
            self.statuses[route][f"transport:{type(exc).__name__}"] += 1
            return None
        self.latencies[route].append(time.perf_counter() - started)
        self.statuses[route][str(response.status_code)] += 1
        return response

    def summary(self, seconds: float) -> dict[str, dict[str, Any]]:
        out = {}
        for route in sorted(self.statuses):
            lat = np.asarray(self.latencies.get(route, []), dtype=float) * 1000
            calls = sum(self.statuses[route].values())
            out[route] = {
                "calls": calls, "per_second": round(calls / seconds, 2),
                **({f"p{q}_ms": round(float(np.percentile(lat, q)), 1) for q in (50, 95, 99)}
                   | {"max_ms": round(float(lat.max()), 1)} if len(lat) else {}),
                "statuses": dict(sorted(self.statuses[route].items()))}
        return out


@dataclass
class Acknowledged:
    """What the server acknowledged, for the checks afterwards."""

    batches: dict[str, list[str]] = field(default_factory=dict)  # batch id -> request ids
    singles: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # -> (id, code)
    reviews: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Rows:
    """Request rows handed out once each; after the last, the rows again under new ids."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.given = 0

    def take(self, n: int) -> list[dict[str, str]]:
        out = []
        for _ in range(n):
            lap, at = divmod(self.given, len(self.rows))
            row = dict(self.rows[at])
            if lap:
                row["request_id"] = f"{row['request_id']}-{lap}"
            out.append(row)
            self.given += 1
        return out


class Load:
    def __init__(self, world: World, *, seconds: float, batch_rows: int, seed: int) -> None:
        self.world = world
        self.seconds = seconds
        self.batch_rows = batch_rows
        self.rows = Rows(world.rows)
        self.rec = Recorder()
        self.ack = Acknowledged()
        self.random = random.Random(seed)
        self.deadline = 0.0

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def single(self, http: httpx.AsyncClient, token: str) -> None:
        while self.running():
            row = self.rows.take(1)[0]
            r = await self.rec.call("POST /requests", http.post(
                f"{API}/requests", headers=self.auth(token),
                json={"manifest": self.world.manifest, "request": row}))
            if r is not None and r.status_code == 200:
                answer = r.json()
                response = answer.get("response") or {}
                if response and response.get("request_id") != row["request_id"]:
                    self.ack.problems.append(f"single {row['request_id']}: answered for "
                                             f"{response.get('request_id')}")
                self.ack.singles[answer["batch_id"]] = (row["request_id"], response.get("code"))

    def batch_file(self, rows: list[dict[str, str]]) -> bytes:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.world.header)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()

    async def batch(self, http: httpx.AsyncClient, token: str) -> None:
        while self.running():
            rows = self.rows.take(self.batch_rows)
            r = await self.rec.call("POST /batches", http.post(
                f"{API}/batches", headers=self.auth(token), files={
                    "file": ("requests.csv", self.batch_file(rows), "text/csv"),
                    "manifest": ("manifest.toml", self.world.manifest_toml, "application/toml")}))
            if r is None or r.status_code not in (200, 202):
                continue
            batch_id = r.json()["batch_id"]
            self.ack.batches[batch_id] = [row["request_id"] for row in rows]
            status = "queued"
            while self.running() and status not in ("done", "failed"):
                await asyncio.sleep(0.5)
                s = await self.rec.call("GET /batches/{id}", http.get(
                    f"{API}/batches/{batch_id}", headers=self.auth(token)))
                status = s.json()["status"] if s is not None and s.status_code == 200 else status
            if status == "done":
                await self.responses(http, token, batch_id, rows)

    async def responses(self, http: httpx.AsyncClient, token: str, batch_id: str,
                        rows: list[dict[str, str]]) -> None:
        r = await self.rec.call("GET /batches/{id}/responses", http.get(
            f"{API}/batches/{batch_id}/responses", headers=self.auth(token)))
        if r is None or r.status_code != 200:
            return
        answered = Counter(row["request_id"] for row in r.json()["rows"])
        wanted = Counter(row["request_id"] for row in rows)
        if answered != wanted:
            self.ack.problems.append(f"batch {batch_id}: {sum(answered.values())} answers for "
                                     f"{len(rows)} requests")

    async def poll(self, http: httpx.AsyncClient, token: str) -> None:
        calls = 0
        while self.running():
            calls += 1
            known = list(self.ack.batches)
            if calls % 20 == 0 or not known:
                await self.rec.call("GET /batches", http.get(f"{API}/batches",
                                                             headers=self.auth(token)))
                if not known:
                    await asyncio.sleep(0.2)
                continue
            await self.rec.call("GET /batches/{id}", http.get(
                f"{API}/batches/{self.random.choice(known)}", headers=self.auth(token)))

    async def reviewer(self, http: httpx.AsyncClient, token: str) -> None:
        while self.running():
            r = await self.rec.call("GET /reviews", http.get(f"{API}/reviews",
                                                             headers=self.auth(token)))
            items = [i for i in (r.json()["items"] if r is not None and r.status_code == 200
                                 else []) if not i["claimed"]]
            if not items:
                await asyncio.sleep(0.5)
                continue
            item = self.random.choice(items[:20])
            path = f"{API}/reviews/{item['batch_id']}/{item['request_id']}"
            c = await self.rec.call("POST /reviews/{b}/{r}/claim",
                                    http.post(f"{path}/claim", headers=self.auth(token)))
            if c is None or c.status_code != 200:
                continue  # another reviewer claimed it first (409)
            outcome = self.random.choice(["approved", "denied"])
            d = await self.rec.call("POST /reviews/{b}/{r}/decision", http.post(
                f"{path}/decision", headers=self.auth(token),
                json={"outcome": outcome, "reason": "load test: synthetic review"}))
            if d is not None and d.status_code == 200:
                self.ack.reviews.append((item["batch_id"], item["request_id"]))

    async def run(self, mix: Mix) -> float:
        """Every client until the time is up; the seconds the load lasted."""
        world = self.world
        requesters, reviewers = world.requester_tokens, world.reviewer_tokens
        clients = mix.single + mix.batch + mix.poll + mix.reviewer
        limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8)
        async with httpx.AsyncClient(base_url=world.base_url, limits=limits,
                                     timeout=httpx.Timeout(120.0)) as http:
            started = time.monotonic()
            self.deadline = started + self.seconds
            tasks = [self.single(http, requesters[n % len(requesters)])
                     for n in range(mix.single)]
            tasks += [self.batch(http, requesters[(n + 1) % len(requesters)])
                      for n in range(mix.batch)]
            tasks += [self.poll(http, requesters[(n + 2) % len(requesters)])
                      for n in range(mix.poll)]
            tasks += [self.reviewer(http, reviewers[n % len(reviewers)])
                      for n in range(mix.reviewer)]
            await asyncio.gather(*tasks)
            return time.monotonic() - started


def drive(world: World, *, clients: int, seconds: float, batch_rows: int = 10,
          seed: int = 7) -> tuple[Load, float]:
    load = Load(world, seconds=seconds, batch_rows=batch_rows, seed=seed)
    elapsed = asyncio.run(load.run(Mix.of(clients)))
    return load, elapsed
