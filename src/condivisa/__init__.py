"""Condivisa: renewable energy communities (CER, AUC, AID) for Italy and the EU.

The pure core is :mod:`condivisa.rules` (the regulator's rulebook as data),
:mod:`condivisa.engine` (hourly shared energy and incentives) and
:mod:`condivisa.allocation` (the community's own benefit-sharing regulation).
Readers in :mod:`condivisa.ingest`, the command line in :mod:`condivisa.cli`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
