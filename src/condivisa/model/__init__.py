"""The description of a community (members, points, plants, regulation) and its YAML file."""

from condivisa.model.community import (
    POD_PATTERN,
    Community,
    Member,
    Plant,
    Point,
    RegulationRule,
)
from condivisa.model.project import Project
from condivisa.model.yamlfile import dump_community, load_community, load_project, parse_community, parse_project

__all__ = [
    "POD_PATTERN",
    "Community",
    "Member",
    "Plant",
    "Point",
    "Project",
    "RegulationRule",
    "dump_community",
    "load_community",
    "load_project",
    "parse_community",
    "parse_project",
]
