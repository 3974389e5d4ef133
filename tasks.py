#!/usr/bin/env python3
"""Set up and run the project with nothing but python3.

    python3 tasks.py build [args]   create .venv if needed, install, build content/ into public/
    python3 tasks.py test [args]    the same setup, then run the test suite (pytest)
    python3 tasks.py serve [args]   the preview server
    python3 tasks.py bench [args]   the speed benchmark, side by side with Hugo and Pelican (bench/bench.py)
    python3 tasks.py NAME [args]    any other site-builder command (check, dedupe, ...)

The virtual environment is reinstalled whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".installed"


def ensure_environment() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text() == wanted and (BIN / "site-builder").exists():
        return
    if not (BIN / "python").exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("Installing site-builder and its test tools (once; again when pyproject.toml changes) ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["--upgrade", "pip"], check=True)
    subprocess.run(pip + ["-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    ensure_environment()
    os.chdir(ROOT)
    if command == "test":
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest])
    if command == "bench":
        return subprocess.call([str(BIN / "python"), str(ROOT / "bench" / "bench.py"), *rest])
    return subprocess.call([str(BIN / "site-builder"), command, *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
