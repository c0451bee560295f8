"""Eligibility and perimeter checks of a configuration, and of readings against it.

Checks never drop anything silently: hard violations come back as :class:`~condivisa.errors.Problem` (the caller
raises them), soft ones as warnings (strings in Italian, shown to the user and put in the settlement output).
"""

from __future__ import annotations

from collections.abc import Iterable

from condivisa.errors import Problem
from condivisa.model.community import Community
from condivisa.rules.rulebook import Rulebook, canonical_region, load_rulebook


def check_community(
    community: Community, *, source: str = "", rulebook: Rulebook | None = None
) -> tuple[list[Problem], list[str]]:
    """Check a community against the rulebook.

    Returns
    -------
    problems : list of Problem
        Violations that make a settlement impossible or wrong: unknown region, plant over 1 MW, members or plants
        in another market zone (CER), AUC points outside one building, AID with more than one customer, a plant
        POD declared in a different cabina than the same member POD.
    warnings : list of str
        Legal but suspicious: plants before 16/12/2021 (they earn no TIP), plants in operation before the
        constitution date, no plants, no regulation.
    """
    rb = rulebook or load_rulebook()
    problems: list[Problem] = []
    warnings: list[str] = []
    conf = rb.configurations[community.configuration]
    region = canonical_region(community.region, rb)
    if region is None:
        problems.append(
            Problem(
                f"regione sconosciuta {community.region!r}; ammesse: {', '.join(sorted(rb.region_zone))}",
                file=source,
                field="region",
            )
        )
        return problems, warnings
    zone = rb.region_zone[region]

    for i, plant in enumerate(community.plants):
        where = f"plants[{i}]"
        if plant.power_kw > rb.max_plant_power_kw:
            problems.append(
                Problem(
                    f"l'impianto {plant.id} ha potenza {plant.power_kw:g} kW, oltre il limite di "
                    f"{rb.max_plant_power_kw:g} kW per singolo impianto: non ammesso",
                    file=source,
                    field=f"{where}.power_kw",
                )
            )
        if plant.commissioning_date < rb.min_commissioning_date and plant.tip_share > 0:
            warnings.append(
                f"impianto {plant.id}: in esercizio dal {plant.commissioning_date:%d/%m/%Y}, prima del "
                f"{rb.min_commissioning_date:%d/%m/%Y}: non riceve la tariffa premio (solo valorizzazione ARERA)"
            )
        if community.constitution_date and plant.commissioning_date < community.constitution_date:
            warnings.append(
                f"impianto {plant.id}: in esercizio prima della costituzione della comunita' "
                f"({community.constitution_date:%d/%m/%Y}); verificare i requisiti GSE per impianti preesistenti"
            )
        if plant.region is not None:
            plant_region = canonical_region(plant.region, rb)
            if plant_region is None:
                problems.append(Problem(f"regione sconosciuta {plant.region!r}", file=source, field=f"{where}.region"))
            elif conf.membership_perimeter == "zone" and rb.region_zone[plant_region] != zone:
                problems.append(
                    Problem(
                        f"l'impianto {plant.id} e' in zona {rb.region_zone[plant_region]}, la comunita' in zona {zone}",
                        file=source,
                        field=f"{where}.region",
                    )
                )

    if conf.membership_perimeter == "zone":
        for i, member in enumerate(community.members):
            if member.region is None:
                continue
            member_region = canonical_region(member.region, rb)
            if member_region is None:
                problems.append(
                    Problem(f"regione sconosciuta {member.region!r}", file=source, field=f"members[{i}].region")
                )
            elif rb.region_zone[member_region] != zone:
                problems.append(
                    Problem(
                        f"il socio {member.id} e' in zona di mercato {rb.region_zone[member_region]}: una CER "
                        f"comprende solo punti della zona {zone}",
                        file=source,
                        field=f"members[{i}].region",
                    )
                )
    elif conf.membership_perimeter == "building":
        buildings = {pt.building for _, pt in community.points()} | {p.building for p in community.plants}
        if None in buildings or len(buildings) != 1:
            named = sorted(b for b in buildings if b)
            problems.append(
                Problem(
                    "in un gruppo di autoconsumo collettivo (AUC) tutti i punti e gli impianti devono indicare lo "
                    f"stesso edificio (campo building); trovati: {', '.join(named) or 'nessuno'}"
                    + (" e punti senza edificio" if None in buildings else ""),
                    file=source,
                    field="members",
                )
            )
    elif conf.membership_perimeter == "customer" and len(community.members) != 1:
        problems.append(
            Problem(
                f"un autoconsumatore a distanza (AID) e' un solo cliente finale: trovati {len(community.members)} soci",
                file=source,
                field="members",
            )
        )

    point_cabina = {pt.pod: pt.cabina for _, pt in community.points()}
    for i, plant in enumerate(community.plants):
        if plant.pod in point_cabina and point_cabina[plant.pod] != plant.cabina:
            problems.append(
                Problem(
                    f"il POD {plant.pod} dell'impianto {plant.id} e' in cabina {plant.cabina}, ma lo stesso POD di un "
                    f"socio e' in cabina {point_cabina[plant.pod]}",
                    file=source,
                    field=f"plants[{i}].cabina",
                )
            )
    if not community.plants:
        warnings.append("nessun impianto nella configurazione: nessuna energia condivisa")
    if not community.regulation:
        warnings.append("nessun regolamento di ripartizione: gli importi restano non ripartiti")
    return problems, warnings


def check_coverage(community: Community, pods_in_readings: Iterable[str]) -> list[str]:
    """Warnings for readings of PODs outside the configuration and for points or plants without readings."""
    present = set(pods_in_readings)
    known = {pt.pod for _, pt in community.points()} | {p.pod for p in community.plants}
    warnings = []
    unknown = sorted(present - known)
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" e altri {len(unknown) - 10}" if len(unknown) > 10 else "")
        warnings.append(f"letture di POD non presenti nella configurazione, ignorate: {shown}")
    for plant in community.plants:
        if plant.pod not in present:
            warnings.append(f"impianto {plant.id} ({plant.pod}): nessuna lettura nel periodo")
    missing_points = [pt.pod for _, pt in community.points() if pt.pod not in present]
    if missing_points:
        shown = ", ".join(missing_points[:10]) + (
            f" e altri {len(missing_points) - 10}" if len(missing_points) > 10 else ""
        )
        warnings.append(f"punti di prelievo senza letture nel periodo (considerati a zero): {shown}")
    return warnings
