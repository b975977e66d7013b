"""UK postcodes as the audit sees them: areas and rough distances (issue 13).

A postcode's area is its leading letters (``LS`` of ``LS2 9JT``, ``B`` of
``B15 2TT``). ``records/data/postcode_areas.csv`` holds one approximate centre
for each of the 124 areas (121 in the UK, with Guernsey, Jersey and the Isle of
Man): see decision 25 for where the figures come from and how far out they can
be. A distance is between two areas' centres, so it says "about how far", never
where anyone lives; an area not in the file (a BFPO number, a typing error, an
address with no postcode) is unknown, never near.
"""

import csv
import math
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

_DATA = Path(__file__).resolve().parent / "data" / "postcode_areas.csv"
# A UK postcode anywhere in a line of text: outward code, optional space, inward.
_IN_TEXT = re.compile(r"\b([A-Z]{1,2})[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b")
_AREA = re.compile(r"[A-Z]{1,2}(?=[0-9])")
EARTH_RADIUS_KM = 6371.0


class Centre(NamedTuple):
    """An area's approximate centre, and roughly how far its postcodes spread."""

    post_town: str
    latitude: float
    longitude: float
    spread_km: int


@cache
def area_centres() -> dict[str, Centre]:
    """Every postcode area's approximate centre, read once from the data file."""
    with _DATA.open(encoding="utf-8", newline="") as handle:
        return {
            row["area"]: Centre(
                row["post_town"],
                float(row["latitude"]),
                float(row["longitude"]),
                int(row["spread_km"]),
            )
            for row in csv.DictReader(handle)
        }


def postcode_area(postcode: str) -> str | None:
    """The area of a postcode (its leading letters), or None when it has none
    that the data file knows."""
    compact = "".join(postcode.split()).upper()
    match = _AREA.match(compact)
    if match is None or match[0] not in area_centres():
        return None
    return match[0]


def address_area(address: str) -> str | None:
    """The area of the last UK postcode in an address (a registered address
    ends with it), or None when there is none the data file knows."""
    found = _IN_TEXT.findall(address.upper())
    for area in reversed(found):
        if area in area_centres():
            return str(area)
    return None


def distance_km(one: str, other: str) -> float | None:
    """The great-circle distance between two areas' centres, or None when
    either is unknown."""
    centres = area_centres()
    if one not in centres or other not in centres:
        return None
    a, b = centres[one], centres[other]
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = (
        math.sin(dlat / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
