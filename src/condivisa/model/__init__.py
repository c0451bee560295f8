"""The description of a community (members, points, plants, regulation) and its YAML file."""

from condivisa.model.community import (
    POD_PATTERN,
    Community,
    Member,
    Plant,
    Point,
    RegulationRule,
)
from condivisa.model.yamlfile import dump_community, load_community, parse_community

__all__ = [
    "POD_PATTERN",
    "Community",
    "Member",
    "Plant",
    "Point",
    "RegulationRule",
    "dump_community",
    "load_community",
    "parse_community",
]
