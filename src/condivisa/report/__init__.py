"""Turn a settlement into the documented JSON document and into Italian tables for people."""

from condivisa.report.document import settlement_document
from condivisa.report.italian import format_eur, format_kwh, format_number, print_settlement

__all__ = ["format_eur", "format_kwh", "format_number", "print_settlement", "settlement_document"]
