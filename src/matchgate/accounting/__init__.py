"""Accounting of disclosures (26 U.S.C. 6103(p)(3)): one record per disclosure, so that a taxpayer
can learn whether, when, to whom and why their information was disclosed."""

from matchgate.accounting.records import (
    ACCOUNTING_COLUMNS,
    AUTOMATIC_APPROVAL,
    disclosure_record,
)
from matchgate.accounting.repo import (
    accounting_for_period,
    accounting_for_taxpayer,
    insert_records,
)

__all__ = [
    "ACCOUNTING_COLUMNS",
    "AUTOMATIC_APPROVAL",
    "accounting_for_period",
    "accounting_for_taxpayer",
    "disclosure_record",
    "insert_records",
]
