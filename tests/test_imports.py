"""Every module imports on its own in a fresh interpreter (no import cycles hidden by import order)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import condivisa


def _script(names: list[str]) -> str:
    """A script importing each of ``names`` after forgetting every condivisa module; exits 1 listing failures."""
    return (
        "import importlib, sys\n"
        "bad = []\n"
        f"for name in {names!r}:\n"
        "    for mod in [m for m in sys.modules if m.startswith('condivisa')]:\n"
        "        del sys.modules[mod]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {exc!r}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )


def test_every_module_imports_alone() -> None:
    names = [m.name for m in pkgutil.walk_packages(condivisa.__path__, "condivisa.") if ".migrations" not in m.name]
    assert len(names) > 100
    # Two interpreters, each over half of the modules: both cores work (the test took 50 s on one).
    halves = [
        subprocess.Popen(
            [sys.executable, "-c", _script(names[k::2])], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for k in range(2)
    ]
    for proc in halves:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
