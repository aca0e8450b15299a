"""The master file: one row per taxpayer per tax year filed, columns MASTER_COLUMNS."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from matchgate.columns import MASTER_COLUMNS
from matchgate.master.population import YEARS, People
from matchgate.master.render import (
    iso_dates,
    name_columns,
    place_columns,
    street_line,
    tin_strings,
    unit_line,
    where,
)

MASTER_SCHEMA = pa.schema([(c, pa.int32() if c == "tax_year" else pa.string())
                           for c in MASTER_COLUMNS])


def master_rows(p: People) -> pa.Table:
    person, year = np.nonzero(p.years)
    res = p.res.take((person, p.slot[person, year]))
    idx = pa.array(person)
    cols: dict[str, pa.Array] = {
        "tin": tin_strings(p.tin).take(idx),
        "tin_type": where(p.itin, "ITIN", "SSN").take(idx),
        **{k: v.take(idx) for k, v in name_columns(p).items()},
        "date_of_birth": iso_dates(p.dob).take(idx),
        "street": street_line(res),
        "unit": unit_line(res),
        **place_columns(res.zip),
        "tax_year": pa.array(np.array(YEARS, np.int32)[year]),
    }
    return pa.table([cols[c] for c in MASTER_COLUMNS], schema=MASTER_SCHEMA)
