"""Readers of meter readings and prices. Each source has a ``parse_*`` (text or buffer) and a ``read_*`` (file).

Readers return data already in Condivisa's vocabulary (:mod:`condivisa.units`); distributor formats, MQTT and
databases plug in by producing the same :class:`~condivisa.ingest.readings.Readings`.
"""

from condivisa.ingest.prices import Prices, parse_prices_csv, read_prices_csv
from condivisa.ingest.readings import (
    Readings,
    ReadingsReader,
    parse_readings_csv,
    read_readings_csv,
)

__all__ = [
    "Prices",
    "Readings",
    "ReadingsReader",
    "parse_prices_csv",
    "parse_readings_csv",
    "read_prices_csv",
    "read_readings_csv",
]
