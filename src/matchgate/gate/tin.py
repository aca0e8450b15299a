"""TIN validity: the SSA's rules for SSNs and the IRS's ranges for ITINs."""

from __future__ import annotations

ITIN_GROUPS = frozenset([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])


def is_valid_ssn(tin: str) -> bool:
    if len(tin) != 9 or not tin.isdigit():
        return False
    area, group, serial = int(tin[:3]), int(tin[3:5]), int(tin[5:])
    return area not in (0, 666) and area < 900 and group != 0 and serial != 0


def is_valid_itin(tin: str) -> bool:
    return len(tin) == 9 and tin.isdigit() and tin[0] == "9" and int(tin[3:5]) in ITIN_GROUPS


def is_valid_tin(tin: str) -> bool:
    return is_valid_ssn(tin) or is_valid_itin(tin)
