"""Read and write community descriptions as YAML, with errors that name file, line and path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from condivisa.errors import InputError, Problem
from condivisa.model.community import Community
from condivisa.model.project import Project


class _Loader(yaml.SafeLoader):
    """Safe loader that leaves dates as text, so that pydantic validates them and names the field."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _loc_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest YAML node reachable along ``loc``."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _italian(err: Any) -> str:
    """Italian wording of the pydantic errors users meet most."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    msg = str(err["msg"]).removeprefix("Value error, ")
    wording = {
        "missing": "campo obbligatorio mancante",
        "extra_forbidden": "campo non previsto",
        "literal_error": f"valore {err.get('input')!r} non ammesso; ammessi: {ctx.get('expected', '')}",
        "greater_than": f"deve essere maggiore di {ctx.get('gt')}",
        "greater_than_equal": f"deve essere almeno {ctx.get('ge')}",
        "less_than_equal": f"deve essere al massimo {ctx.get('le')}",
        "less_than": f"deve essere minore di {ctx.get('lt')}",
        "float_parsing": f"{err.get('input')!r} non e' un numero",
        "float_type": f"{err.get('input')!r} non e' un numero",
        "date_from_datetime_parsing": f"data non valida {err.get('input')!r}: attesa AAAA-MM-GG",
        "date_parsing": f"data non valida {err.get('input')!r}: attesa AAAA-MM-GG",
        "date_type": f"data non valida {err.get('input')!r}: attesa AAAA-MM-GG",
        "string_too_short": "non puo' essere vuoto",
        "too_short": "serve almeno un elemento",
        "string_type": f"atteso un testo, trovato {err.get('input')!r}",
        "list_type": "attesa una lista",
        "dict_type": "atteso un insieme di chiavi e valori",
        "model_type": "atteso un insieme di chiavi e valori",
    }
    return wording.get(kind, msg)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_community(text: str, *, source: str = "<community>") -> Community:
    """Parse and validate a community description.

    Parameters
    ----------
    text : str
        YAML document.
    source : str
        Name used in error messages (usually the file name).

    Raises
    ------
    InputError
        Malformed YAML or invalid content; each problem names the file, line and path in the document.
    """
    return parse_document(text, Community, source=source)


def parse_project(text: str, *, source: str = "<project>") -> Project:
    """Parse and validate a design project (see :class:`~condivisa.model.project.Project`)."""
    return parse_document(text, Project, source=source)


def parse_document(text: str, model: type[ModelT], *, source: str) -> ModelT:
    """Parse a YAML document into ``model``; problems name file, line and path."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data: Any = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError.one(f"YAML non valido: {getattr(exc, 'problem', exc)}", file=source, row=row) from exc
    except RecursionError as exc:
        raise InputError.one("YAML non valido: annidamento troppo profondo", file=source) from exc
    if not isinstance(data, dict):
        raise InputError.one("atteso un documento YAML con le chiavi name, region, members, ...", file=source)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = _italian(err)
            problems.append(Problem(msg, file=source, row=_line_of(node, loc), field=_loc_path(loc) or None))
        raise InputError(problems) from exc


def load_community(path: str | Path) -> Community:
    """Read a community description from a YAML file (see :func:`parse_community`)."""
    return parse_community(_read(path), source=str(path))


def load_project(path: str | Path) -> Project:
    """Read a design project from a YAML file (see :func:`parse_project`)."""
    return parse_project(_read(path), source=str(path))


def _read(path: str | Path) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError.one("file non trovato", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError.one("il file non e' testo UTF-8", file=str(path)) from exc


def dump_community(community: Community) -> str:
    """YAML text of a community, in the documented field order."""
    data = community.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
