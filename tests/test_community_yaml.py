"""Community YAML: the documented example validates; errors name file, line and path."""

from __future__ import annotations

import pytest

from condivisa.errors import InputError
from condivisa.model import dump_community, parse_community

EXAMPLE = """\
name: CER Esempio
configuration: CER          # CER | AUC | AID
region: Piemonte
parameters: {cu_af_eur_mwh: 10.57}
members:
  - id: m1
    name: Rossi Mario
    kind: household
    pods: [{pod: IT001E00000001, cabina: AC001E00001, voltage: LV}]
  - id: m2
    name: Officina Srl
    kind: business
    pods: [{pod: IT001E00000002, cabina: AC001E00001}]
plants:
  - id: p1
    owner: m2
    pod: IT001E00000009
    cabina: AC001E00001
    technology: pv
    power_kw: 100
    commissioning_date: 2024-05-01
    grant_share: 0.0
regulation:
  - {to: "fund:social", share: 0.10}
  - {to: producers, share: 0.30, by: incentivised_injection}
  - {to: consumers, share: 0.60, by: shared_withdrawal}
"""


def errors(text: str) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse_community(text, source="c.yaml")
    return [str(p) for p in exc.value.problems]


def test_documented_example_round_trips() -> None:
    c = parse_community(EXAMPLE, source="c.yaml")
    assert c.plants[0].power_kw == 100 and c.parameters == {"cu_af_eur_mwh": 10.57}
    assert parse_community(dump_community(c)) == c


def test_wrong_pod_names_line_and_path() -> None:
    found = errors(EXAMPLE.replace("IT001E00000002", "IT01E00000002"))
    assert found[0].startswith("c.yaml, riga 13, members[1].pods[0].pod: POD 'IT01E00000002' non valido")


def test_malformed_yaml_names_line() -> None:
    found = errors(EXAMPLE.replace("  - id: m2\n", "  - id: [m2\n"))
    assert found[0].startswith("c.yaml, riga") and "YAML non valido" in found[0]


def test_shares_not_summing_to_one() -> None:
    found = errors(EXAMPLE.replace("share: 0.60", "share: 0.50"))
    assert any("sommano a 0.9" in p for p in found), found


def test_unknown_field_and_missing_field() -> None:
    found = errors(EXAMPLE.replace("region: Piemonte\n", "regione: Piemonte\n"))
    assert any("region: campo obbligatorio mancante" in p for p in found)
    assert any("regione: campo non previsto" in p for p in found)


def test_grant_above_forty_percent_is_refused() -> None:
    found = errors(EXAMPLE.replace("grant_share: 0.0", "grant_share: 0.5"))
    assert any("plants[0].grant_share" in p for p in found)


def test_field_errors_are_in_italian_and_name_the_field() -> None:
    found = errors(
        EXAMPLE.replace("commissioning_date: 2024-05-01", "commissioning_date: 2024-13-01").replace(
            "kind: household", "kind: alien"
        )
    )
    assert any("plants[0].commissioning_date: data non valida '2024-13-01'" in p for p in found), found
    assert any("members[0].kind: valore 'alien' non ammesso" in p for p in found), found
