"""Hourly settlement of a configuration: pure numpy computation, no I/O.

:mod:`condivisa.engine.sharing` is the array core (hours x points); :mod:`condivisa.engine.settle` turns a
community description, readings and prices into those arrays and back into a :class:`Settlement`.
"""

from condivisa.engine.settle import Settlement, settle
from condivisa.engine.sharing import EnergyResult, Layout, MoneyResult, share_energy, value_energy

__all__ = ["EnergyResult", "Layout", "MoneyResult", "Settlement", "settle", "share_energy", "value_energy"]
