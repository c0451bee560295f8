"""The ledger's hash chain: canonical JSON, entry hash as documented, any tampering found at the right entry."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from condivisa.ledger import (
    GENESIS,
    ChainEntry,
    NotCanonicalError,
    canonical_json,
    entry_hash,
    make_entry,
    verify_chain,
)

KINDS = ("settlement", "settlement_status", "campaign_rewards", "payment_batch", "payment_status")

payload_values = st.one_of(st.integers(-(10**12), 10**12), st.text(max_size=12), st.booleans(), st.none())
payloads = st.dictionaries(st.text(min_size=1, max_size=8), payload_values, max_size=5)
entry_fields = st.tuples(
    st.sampled_from(KINDS),
    st.one_of(st.none(), st.integers(1, 1000)),
    st.datetimes().map(lambda d: d.isoformat() + "+00:00"),
    payloads,
)


def build_chain(specs: list[tuple[str, int | None, str, dict[str, Any]]]) -> list[ChainEntry]:
    out: list[ChainEntry] = []
    for k, (kind, community, created_at, payload) in enumerate(specs):
        out.append(make_entry(out[-1].hash if out else GENESIS, k + 1, kind, community, created_at, payload))
    return out


def changed(entry: ChainEntry, field: str, data: st.DataObject) -> ChainEntry:
    """The entry with one field set to a different value of the same kind."""
    old = getattr(entry, field)
    if field == "seq":
        new: Any = data.draw(st.integers(-5, 50).filter(lambda v: v != old))
    elif field == "community_id":
        new = data.draw(st.one_of(st.none(), st.integers(1, 1000)).filter(lambda v: v != old))
    elif field in ("prev_hash", "hash"):
        new = data.draw(st.text("0123456789abcdef", min_size=64, max_size=64).filter(lambda v: v != old))
    elif field == "payload":
        new = canonical_json(data.draw(payloads.filter(lambda p: canonical_json(p) != old)))
    else:
        new = data.draw(st.text(min_size=1, max_size=30).filter(lambda v: v != old))
    return dataclasses.replace(entry, **{field: new})


# Canonical JSON -------------------------------------------------------------------------------------------------


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_non_ascii() -> None:
    a = canonical_json({"b": [1, "città"], "a": {"z": None, "y": True}})
    b = canonical_json({"a": {"y": True, "z": None}, "b": (1, "città")})
    assert a == b
    assert " " not in a and "città" in a
    assert json.loads(a) == {"a": {"y": True, "z": None}, "b": [1, "città"]}


def test_canonical_json_refuses_floats_unless_allowed() -> None:
    with pytest.raises(NotCanonicalError, match=r"\$\.amount"):
        canonical_json({"amount": 1.5})
    assert json.loads(canonical_json({"kwh": 0.1}, allow_floats=True)) == {"kwh": 0.1}
    for bad in (float("nan"), float("inf")):
        with pytest.raises(NotCanonicalError):
            canonical_json([bad], allow_floats=True)
    with pytest.raises(NotCanonicalError):
        canonical_json({1: "x"})
    with pytest.raises(NotCanonicalError):
        canonical_json({"s": {1, 2}})


def test_entry_hash_follows_the_documented_formula() -> None:
    fields = {
        "community_id": 7,
        "created_at": "2025-06-01T10:00:00.000000+00:00",
        "kind": "settlement",
        "payload": '{"total_cents":12345}',
        "prev_hash": GENESIS,
        "seq": 1,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, 1, "settlement", 7, "2025-06-01T10:00:00.000000+00:00", '{"total_cents":12345}') == (
        expected
    )


# Verification ---------------------------------------------------------------------------------------------------


@given(st.lists(entry_fields, min_size=0, max_size=8))
def test_an_untouched_chain_verifies(specs: list[Any]) -> None:
    chain = build_chain(specs)
    result = verify_chain(iter(chain))
    assert result.ok and result.count == len(chain)
    assert result.head == (chain[-1].hash if chain else GENESIS)
    assert verify_chain(chain, expected_head=result.head).ok


@settings(max_examples=300)
@given(
    st.lists(entry_fields, min_size=1, max_size=8),
    st.sampled_from(["seq", "kind", "community_id", "created_at", "payload", "prev_hash", "hash"]),
    st.data(),
)
def test_any_single_field_change_is_found_at_that_entry(specs: list[Any], field: str, data: st.DataObject) -> None:
    chain = build_chain(specs)
    k = data.draw(st.integers(0, len(chain) - 1))
    chain[k] = changed(chain[k], field, data)
    result = verify_chain(chain)
    assert not result.ok
    assert result.position == k and result.bad_seq == chain[k].seq
    assert result.count == k
    assert result.head == (chain[k - 1].hash if k else GENESIS)
    assert result.reason


@given(st.lists(entry_fields, min_size=2, max_size=8), st.data())
def test_deleting_an_entry_is_found(specs: list[Any], data: st.DataObject) -> None:
    chain = build_chain(specs)
    k = data.draw(st.integers(0, len(chain) - 2))
    del chain[k]
    result = verify_chain(chain)
    assert not result.ok and result.position == k and result.bad_seq == k + 2
    assert result.reason is not None and f"mancanti: {k + 1} " in result.reason


@given(st.lists(entry_fields, min_size=2, max_size=8))
def test_deleting_the_last_entry_needs_the_known_head(specs: list[Any]) -> None:
    chain = build_chain(specs)
    head = chain[-1].hash
    assert verify_chain(chain[:-1]).ok  # the entries alone cannot tell
    result = verify_chain(chain[:-1], expected_head=head)
    assert not result.ok and result.bad_seq is None and result.count == len(chain) - 1


@given(st.lists(entry_fields, min_size=2, max_size=8), st.data())
def test_swapping_two_entries_is_found(specs: list[Any], data: st.DataObject) -> None:
    chain = build_chain(specs)
    k = data.draw(st.integers(0, len(chain) - 2))
    chain[k], chain[k + 1] = chain[k + 1], chain[k]
    result = verify_chain(chain)
    assert not result.ok and result.position == k


def test_reasons_for_duplicates_and_reordering() -> None:
    chain = build_chain([("settlement", 1, "2025-01-01T00:00:00+00:00", {"n": n}) for n in range(4)])
    duplicate = verify_chain([chain[0], chain[1], chain[1], chain[2]])
    assert (duplicate.ok, duplicate.position, duplicate.bad_seq) == (False, 2, 2)
    assert duplicate.reason == "voce 2 duplicata"
    reordered = verify_chain([chain[0], chain[2], chain[1]])
    assert reordered.position == 1 and reordered.reason is not None and "mancanti: 2" in reordered.reason
    back = verify_chain([chain[0], chain[1], chain[2], chain[1]])
    assert back.position == 3 and back.reason is not None and "fuori ordine" in back.reason
    renumbered = [chain[0], dataclasses.replace(chain[2], seq=2)]  # a removed entry hidden by renumbering
    hidden = verify_chain(renumbered)
    assert hidden.position == 1 and hidden.reason is not None and "prev_hash" in hidden.reason
    assert "voce 2" in hidden.message and "1 voci integre" in hidden.message
