"""The review queue: requests in the review band wait for a person's decision."""

from matchgate.review.outcome import answer_rows, released_answer
from matchgate.review.queue import ReviewQueue

__all__ = ["ReviewQueue", "answer_rows", "released_answer"]
