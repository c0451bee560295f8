"""Readers of meter readings and prices. Each source has a ``parse_*`` (text or buffer) and a ``read_*`` (file).

Readers return data already in Condivisa's vocabulary (:mod:`condivisa.units`); distributor formats, MQTT and
databases plug in by producing the same :class:`~condivisa.ingest.readings.Readings`.
"""

from condivisa.ingest.distributors import (
    ColumnMapping,
    parse_edistribuzione_wide,
    parse_mapped_csv,
    parse_pcf_long,
    pod_and_direction_from_filename,
    read_edistribuzione_wide,
    read_pcf_long,
)
from condivisa.ingest.prices import Prices, parse_prices_csv, read_prices_csv
from condivisa.ingest.readings import (
    Readings,
    ReadingsReader,
    parse_readings_csv,
    read_readings_csv,
)

__all__ = [
    "ColumnMapping",
    "Prices",
    "Readings",
    "ReadingsReader",
    "parse_edistribuzione_wide",
    "parse_mapped_csv",
    "parse_pcf_long",
    "parse_prices_csv",
    "parse_readings_csv",
    "pod_and_direction_from_filename",
    "read_edistribuzione_wide",
    "read_pcf_long",
    "read_prices_csv",
    "read_readings_csv",
]
