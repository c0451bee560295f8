#!/usr/bin/env python3
"""Two-command entry point for a fresh machine with Python 3.11+.

    python3 dev.py demo    # install on first run, start the platform with the demo community (SQLite)
    python3 dev.py test    # install on first run, run the test suite

Any other arguments after the command are passed on (``python3 dev.py test -k tip``). ``python3 dev.py run ARGS``
runs the ``condivisa`` command line inside the project's environment.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("CONDIVISA_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".condivisa-installed"


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_installed() -> None:
    """Create the virtual environment and install the project with its test extras, once per pyproject."""
    if sys.version_info < (3, 11):
        sys.exit(f"Condivisa needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not (BIN / "python").exists():
        print(f"Creating the virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    print("Installing Condivisa and its dependencies (first run) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "run", "install"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_installed()
    if command == "install":
        return 0
    if command == "demo":
        return subprocess.call([str(BIN / "condivisa"), "serve", "--demo", *rest], cwd=ROOT)
    if command == "run":
        return subprocess.call([str(BIN / "condivisa"), *rest], cwd=ROOT)
    return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
