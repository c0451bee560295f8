"""The regulator's rules as versioned data, and pure functions that read them.

Public names: :class:`Rulebook`, :func:`load_rulebook`, :func:`tip_eur_mwh`, :func:`time_band`,
:func:`zone_of_region`, :func:`canonical_region`.
"""

from condivisa.rules.bands import time_band
from condivisa.rules.rulebook import (
    PowerClass,
    Rulebook,
    YearParameters,
    canonical_region,
    load_rulebook,
    zone_of_region,
)
from condivisa.rules.tip import grant_reduction, power_class, tip_eur_mwh

__all__ = [
    "PowerClass",
    "Rulebook",
    "YearParameters",
    "canonical_region",
    "grant_reduction",
    "load_rulebook",
    "power_class",
    "time_band",
    "tip_eur_mwh",
    "zone_of_region",
]
