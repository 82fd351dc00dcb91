"""The data contract's light rules: one source for columns, track ids and stack periods."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from volcdet.data import contract
from volcdet.data.contract import (
    ProductSource,
    period_yr_between,
    period_yr_of_iso_dates,
    track_id_problem,
)


@pytest.mark.parametrize("track_id", ["A076", "021D_05266_252525", "t-1"])
def test_safe_track_ids_pass(track_id):
    assert track_id_problem(track_id) is None


@pytest.mark.parametrize("track_id", ["../x", "a/b", ".hidden", "", "día", None, 7])
def test_unsafe_track_ids_say_why(track_id):
    problem = track_id_problem(track_id)
    assert problem is not None
    assert f"track_id {track_id!r} may only hold letters, digits, _ and -" in problem


def test_a_period_counts_julian_years():
    assert period_yr_between(date(2016, 1, 1), date(2020, 1, 1)) == pytest.approx(1461 / 365.25)
    assert period_yr_of_iso_dates("2016-01-01", "2020-01-01") == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2016-13-01", "2020-01-01", "are not ISO dates"),
        ("20160101x", "2020-01-01", "are not ISO dates"),
        ("2020-01-01", "2020-01-01", "end 2020-01-01 is not after start 2020-01-01"),
    ],
)
def test_a_bad_period_is_one_message(start, end, message):
    with pytest.raises(ValueError, match=message):
        period_yr_of_iso_dates(start, end)


def test_the_region_and_the_command_line_share_the_columns():
    from volcdet.data import region
    from volcdet.inference import api, cli

    assert region.TRACK_COLUMNS is contract.TRACK_COLUMNS
    assert region.VOLCANO_COLUMNS is contract.VOLCANO_COLUMNS
    assert api.CATALOGUE_COLUMNS is cli.CATALOGUE_COLUMNS is contract.CATALOGUE_COLUMNS
    assert set(contract.SCAN_TRACK_COLUMNS) <= set(contract.TRACK_COLUMNS)
    assert contract.VOLCANO_COLUMNS[:3] == contract.CATALOGUE_COLUMNS


def test_one_record_describes_a_product_to_read(tmp_path):
    from volcdet.data.products.region_import import parse_track_source

    (tmp_path / "v.tif").write_bytes(b"")
    source = parse_track_source(f"A076={tmp_path / 'v.tif'},pass=ascending,start=2016-01-01")
    assert source == ProductSource(
        "A076", tmp_path / "v.tif", pass_direction="ascending", start="2016-01-01"
    )


def test_the_contract_imports_nothing_heavy():
    """The command line checks its arguments with it before pandas, torch or rasterio load."""
    code = (
        "import sys, volcdet.data.contract; "
        "print(sorted(m for m in ('pandas', 'torch', 'rasterio', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
