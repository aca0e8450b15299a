"""The outside check: matchgate on pseudopeople's bundled sample population (not written here).

pseudopeople (https://pseudopeople.readthedocs.io) simulates a US population and writes it as
the records of real datasets, with realistic noise and the simulant's id as ground truth. Its
bundled sample (about 10,000 people, tax year and census year 2020) is used as it comes:
- the master file: one row per taxpayer from the 1040 and W-2/1099 records (name, middle
  initial, SSN as it appears most often on the simulant's tax records, mailing address). Tax
  forms carry no date of birth, so the master has none;
- the requests: one per decennial census record (name, middle initial, date of birth, address;
  no TIN), about people who filed (their true TIN is the simulant's master TIN) or did not
  (children, non-filers: not in the master file);
- places: the sample puts everyone in "Anytown, WA 00000". Each household gets a real Washington
  city and standard ZIP (from the `zipcodes` package, drawn by a hash of the household id, so
  the same household has the same place in every dataset). pseudopeople's noise on the place
  is kept: a ZIP whose digits it changed keeps those changed digits on the real ZIP, a city it
  misspelt gets one misspelling of the real city, a state it replaced stays replaced.
Rules are not tuned to this data: it is a check, reported as it comes out.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zipcodes

from matchgate.columns import MASTER_COLUMNS, REQUEST_COLUMNS
from matchgate.master.generate import AGREEMENT_ID, CERTIFICATION, LEGAL_BASIS
from matchgate.master.legal import STATUTORY_AUTHORITY
from matchgate.master.writers import write_csv, write_manifest

PLACEHOLDER_CITY, PLACEHOLDER_ZIP, STATE = "Anytown", "00000", "WA"
INSTALL_HINT = "pip install 'matchgate[bench]' (pinned in requirements.lock)"


@dataclass(frozen=True)
class Inputs:
    master_path: Path
    requests_path: Path
    manifest_path: Path
    truth: dict[str, dict[str, str]]
    counts: dict[str, int]


def _places() -> list[tuple[str, str]]:
    """(city, ZIP) of the active standard ZIP codes of Washington, sorted."""
    return sorted((z["city"].upper(), z["zip_code"])
                  for z in zipcodes.filter_by(state=STATE, zip_code_type="STANDARD",
                                              active=True))


def place_of(household_id: str, places: list[tuple[str, str]]) -> tuple[str, str]:
    digest = hashlib.sha256(household_id.encode("utf-8")).digest()
    return places[int.from_bytes(digest[:8], "big") % len(places)]


def _text(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v).strip()
    return s or None


def real_zip(given: str | None, real: str) -> str | None:
    """The real ZIP, with the characters pseudopeople's noise changed in the placeholder."""
    if given is None:
        return None
    if len(given) != len(PLACEHOLDER_ZIP):
        return given
    return "".join(r if g == p else g for g, p, r in zip(given, PLACEHOLDER_ZIP, real,
                                                         strict=True))


def real_city(given: str | None, real: str) -> str | None:
    if given is None:
        return None
    if given.lower() == PLACEHOLDER_CITY.lower() or len(real) < 3:
        return real
    return real[0] + real[2] + real[1] + real[3:]  # misspelt, as the placeholder was


def real_state(given: str | None) -> str | None:
    return given


def _street(number: Any, name: Any, po_box: Any = None) -> str | None:
    box = _text(po_box)
    if box is not None and _text(name) is None:
        return f"PO BOX {box.split('.')[0]}"
    parts = [p for p in (_text(number), _text(name)) if p]
    return " ".join(parts) or None


def _iso(mdy: Any) -> str | None:
    text = _text(mdy)
    if not text or len(text.split("/")) != 3:
        return text
    m, d, y = text.split("/")
    return f"{y}-{m}-{d}"


def _load() -> dict[str, Any]:
    try:
        import pseudopeople as psp  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(f"pseudopeople is not installed: {INSTALL_HINT}") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"1040": psp.generate_taxes_1040(verbose=False),
                "w2": psp.generate_taxes_w2_and_1099(verbose=False),
                "census": psp.generate_decennial_census(verbose=False)}


def _tax_people(frames: dict[str, Any], places: list[tuple[str, str]]
                ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Master rows (one per simulant and mailing address) and each simulant's TIN."""
    ssns: dict[str, Counter[str]] = {}
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}
    for frame in (frames["1040"], frames["w2"]):
        for r in frame.to_dict("records"):
            sid = str(r["simulant_id"])
            ssn = _text(r["ssn"])
            if ssn:
                ssns.setdefault(sid, Counter())[ssn.replace("-", "")] += 1
            city, zip5 = place_of(str(r["household_id"]), places)
            street = _street(r["mailing_address_street_number"],
                             r["mailing_address_street_name"], r["mailing_address_po_box"])
            rows.setdefault((sid, street), {
                "simulant_id": sid, "first_name": _text(r["first_name"]),
                "middle_name": _text(r["middle_initial"]), "last_name": _text(r["last_name"]),
                "suffix": None, "date_of_birth": None, "street": street,
                "unit": _text(r["mailing_address_unit_number"]),
                "city": real_city(_text(r["mailing_address_city"]), city),
                "state": real_state(_text(r["mailing_address_state"])),
                "zip": real_zip(_text(r["mailing_address_zipcode"]), zip5),
                "tax_year": int(r["tax_year"])})
    tins = {sid: c.most_common(1)[0][0] for sid, c in ssns.items()}
    owner: dict[str, str] = {}
    for sid, tin in sorted(tins.items()):
        owner.setdefault(tin, sid)  # a TIN noised into another's: the first simulant keeps it
    tins = {sid: tin for sid, tin in tins.items() if owner[tin] == sid}
    master = [{**r, "tin": tins[r["simulant_id"]], "tin_type": "SSN"} for r in rows.values()
              if r["simulant_id"] in tins]
    return master, tins


def build_inputs(out: Path, seed: int) -> Inputs:
    """Write master.parquet, requests.csv and manifest.toml into out; the truth per request."""
    out.mkdir(parents=True, exist_ok=True)
    frames, places = _load(), _places()
    master, tins = _tax_people(frames, places)
    master_path = out / "master.parquet"
    pq.write_table(pa.table({c: pa.array([r[c] for r in master],
                                         type=pa.int32() if c == "tax_year" else pa.string())
                             for c in MASTER_COLUMNS}), master_path)
    requests, truth = [], {}
    for i, r in enumerate(frames["census"].to_dict("records")):
        rid = f"P{i:06d}"
        city, zip5 = place_of(str(r["household_id"]), places)
        tin = tins.get(str(r["simulant_id"]))
        requests.append({
            "request_id": rid, "first_name": _text(r["first_name"]),
            "middle_name": _text(r["middle_initial"]), "last_name": _text(r["last_name"]),
            "suffix": None, "date_of_birth": _iso(r["date_of_birth"]), "tin": None,
            "street": _street(r["street_number"], r["street_name"]),
            "unit": _text(r["unit_number"]), "city": real_city(_text(r["city"]), city),
            "state": real_state(_text(r["state"])), "zip": real_zip(_text(r["zipcode"]), zip5),
            "tax_periods": "2020", "case_number": f"A{seed:04d}{i:05d}",
            "order_date": "2024-01-15", "statutory_authority": STATUTORY_AUTHORITY,
            "reason": f"Final order of removal entered in case A{seed:04d}{i:05d}; "
                      "current residential address needed to execute the order."})
        truth[rid] = {"request_id": rid, "category": "in_master" if tin else "not_in_master",
                      "true_tin": tin or "", "variation": "pseudopeople",
                      "simulant_id": str(r["simulant_id"])}
    requests_path = out / "requests.csv"
    write_csv(pa.table({c: pa.array([q[c] for q in requests], type=pa.string())
                        for c in REQUEST_COLUMNS}), requests_path)
    manifest_path = out / "manifest.toml"
    write_manifest(manifest_path, {"agreement_id": AGREEMENT_ID, "legal_basis": LEGAL_BASIS,
                                   "requesting_official": "Field Office Director (synthetic)",
                                   "certification": CERTIFICATION})
    counts = {"taxpayers": len(tins), "master_rows": len(master), "requests": len(requests),
              "in_master": sum(t["category"] == "in_master" for t in truth.values()),
              "households_placed": len({str(h) for f in frames.values()
                                        for h in f["household_id"]})}
    return Inputs(master_path, requests_path, manifest_path, truth, counts)
