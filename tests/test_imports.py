"""Every module imports on its own in a fresh interpreter (no import cycles hidden by import order)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import condivisa


def test_every_module_imports_alone() -> None:
    names = [m.name for m in pkgutil.walk_packages(condivisa.__path__, "condivisa.") if ".migrations" not in m.name]
    code = (
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
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
