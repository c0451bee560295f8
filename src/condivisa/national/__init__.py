"""National scale: a realistic national dataset, readings partitioned in Parquet, and the settlement of thousands of
communities in one process or on a Dask cluster.

- :mod:`condivisa.national.generator`: pure, seeded generator of a national dataset (cabine primarie per zone,
  configurations per cabina, members and load types, PV plants) with documented distributions;
- :mod:`condivisa.national.parquet`: readings written and read as Parquet partitioned ``zone=/cabina=/month=``,
  with the community descriptions in a JSON manifest beside them;
- :mod:`condivisa.national.settle_many`: one code path that settles many communities in process, on a
  ``distributed.LocalCluster`` or on a remote Dask scheduler, each community by the unchanged engine.
"""

from condivisa.national.generator import NationalSpec, generate_community, national_slots, zone_prices
from condivisa.national.parquet import Dataset, open_dataset, write_dataset
from condivisa.national.settle_many import CommunityRecord, SettleManyResult, settle_many

__all__ = [
    "CommunityRecord",
    "Dataset",
    "NationalSpec",
    "SettleManyResult",
    "generate_community",
    "national_slots",
    "open_dataset",
    "settle_many",
    "write_dataset",
    "zone_prices",
]
