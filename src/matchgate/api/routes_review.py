"""The review queue: list, view, claim, decide."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from matchgate.api.access import CurrentUser
from matchgate.api.errors import errors
from matchgate.api.schemas import (
    Claim,
    Released,
    ReviewDecision,
    ReviewDetail,
    ReviewItem,
    ReviewQueueView,
)
from matchgate.review import ReviewQueue

router = APIRouter(prefix="/api/v1/reviews")


def queue_of(request: Request) -> ReviewQueue:
    queue: ReviewQueue = request.app.state.review_queue
    return queue


@router.get("", response_model=ReviewQueueView, responses=errors())
def review_queue(request: Request, user: CurrentUser,
                 batch_id: Annotated[str | None, Query(max_length=128)] = None,
                 reason: Annotated[str | None, Query(max_length=128)] = None
                 ) -> ReviewQueueView:
    """Items waiting for a decision (filter by batch or reason) and the counts."""
    items, counts = queue_of(request).pending(batch_id=batch_id, reason=reason)
    return ReviewQueueView(items=[ReviewItem(**i) for i in items], counts=counts)


@router.get("/{batch_id}/{request_id}", response_model=ReviewDetail, responses=errors(404))
def review_item(batch_id: str, request_id: str, request: Request,
                user: CurrentUser) -> ReviewDetail:
    """The request beside each candidate considered (best first), field by field, with the
    per-field evidence of each."""
    return ReviewDetail(**queue_of(request).view(batch_id=batch_id, request_id=request_id))


@router.post("/{batch_id}/{request_id}/claim", response_model=Claim, responses=errors(404, 409))
def claim_item(batch_id: str, request_id: str, request: Request, user: CurrentUser) -> Claim:
    """Claim the item for a while (the claim lapses); another reviewer's live claim is a 409."""
    until = queue_of(request).claim(user, batch_id=batch_id, request_id=request_id)
    return Claim(batch_id=batch_id, request_id=request_id, claimed_by=user.name,
                 claim_until=until)


@router.post("/{batch_id}/{request_id}/decision", response_model=Released,
             responses=errors(400, 404, 409))
def decide_item(batch_id: str, request_id: str, body: ReviewDecision, request: Request,
                user: CurrentUser) -> Released:
    """Approve or deny a claimed item with a reason; an item is decided once."""
    released = queue_of(request).decide(user, batch_id=batch_id, request_id=request_id,
                                        outcome=body.outcome, reason=body.reason)
    return Released(**released)
