"""The gate: legal elements, the address gate, duplicates and limits. Pure functions."""

from matchgate.gate.address import check_address
from matchgate.gate.batch import check_batch, dedupe_key
from matchgate.gate.legal import check_manifest, check_request
from matchgate.gate.rejection import Rejection

__all__ = ["Rejection", "check_address", "check_batch", "check_manifest", "check_request",
           "dedupe_key"]
