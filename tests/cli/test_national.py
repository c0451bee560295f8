"""``condivisa national-generate`` and ``condivisa settle-many`` end to end on a small dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from condivisa.cli.app import app
from condivisa.national.settle_many import read_records, settle_many

runner = CliRunner()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ds"
    result = runner.invoke(app, ["national-generate", str(path), "--communities", "3", "--pods", "5", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert "3 comunita', 15 POD, anno 2025" in result.output
    return path


def test_settle_many_writes_records(dataset: Path, tmp_path: Path) -> None:
    expected = settle_many(dataset).records
    for name in ("out.json", "out.parquet"):
        out = tmp_path / name
        result = runner.invoke(app, ["settle-many", str(dataset), "--out", str(out), "--year", "2025"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["communities"] == 3 and summary["failed"] == 0 and summary["scheduler"] == "in-process"
        assert summary["total_eur"] == pytest.approx(sum(r.total_cents for r in expected) / 100)
        assert read_records(out) == expected


def test_settle_many_on_a_local_cluster(dataset: Path) -> None:
    result = runner.invoke(app, ["settle-many", str(dataset), "--scheduler", "local", "--workers", "2", "--batch", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["communities"] == 3 and summary["workers"] == 2


def test_bad_input_exits_2_in_italian(dataset: Path, tmp_path: Path) -> None:
    cases = [
        (["settle-many", str(tmp_path / "nulla")], "ne' un URL di database"),
        (["settle-many", str(dataset), "--out", str(tmp_path / "x.csv")], "usare .parquet o .json"),
        (["settle-many", str(dataset), "--year", "2024"], "non del 2024"),
        (["settle-many", str(dataset), "--scheduler", "udp://x"], "scheduler non valido"),
        (["national-generate", str(tmp_path / "n"), "--communities", "0"], "comunita'"),
        (["national-generate", str(dataset), "--communities", "1"], "gia' un dataset"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
