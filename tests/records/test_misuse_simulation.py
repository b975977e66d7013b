"""The misuse simulation, small (issue 13): ordinary providers of five kinds and
the four misusers, night by night through the real audit on PostgreSQL.
bench/misuse_simulation.py runs it at full size."""

import pytest

from records.simulation import MISUSERS, report, simulate

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_every_misuser_is_alerted_within_three_nights_and_ordinary_ones_hardly():
    result = simulate(
        ordinary_per_kind=5, days=10, warm_up=10, starts=(1, 4, 6, 5), per_cell=4
    )
    table = "\n".join(report(result))
    for name in MISUSERS:
        nights = result.detected[name].get("any")
        assert nights is not None, table
        assert nights <= 3, table
    assert result.detected["screening firm"].get("age_profile") is not None, table
    assert result.detected["provider turned reseller"].get("purpose_change"), table
    assert result.detected["ULN enumerator"].get("consecutive_ulns") == 1, table
    # The member of an ordinary college, named by the per-user rule.
    staff = result.detected["staff member turned reseller"].get("user_purpose")
    assert staff is not None, table
    assert staff <= 3, table
    assert result.suspended["ULN enumerator"], table  # its rule suspends
    assert result.ordinary_days > 200
    assert result.false_positive_rate() <= 0.005, table
