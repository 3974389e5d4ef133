"""An installed site-builder (a wheel, its hot modules compiled by Cython: see setup.py) builds the
same site as the plain Python of this tree, byte for byte."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SHARED

FIXTURE = Path(__file__).parent / "fixtures" / "site"


def compiled_modules() -> list[str]:
    """setup.py's COMPILED, as module names."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    paths = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED")
    return [path[: -len(".py")].replace("/", ".") for path in paths]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """This tree as pip installs it: its wheel, unpacked into a folder of its own."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): a wheel built here holds the plain modules only")
    folder = tmp_path_factory.mktemp("installed")
    # From the test environment's setuptools and Cython (see pyproject.toml's test extra): nothing is downloaded.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(folder / "wheel"), str(REPO)], check=True, capture_output=True)
    with zipfile.ZipFile(next((folder / "wheel").glob("site_builder-*.whl"))) as wheel:
        wheel.extractall(folder / "site-packages")
    return folder / "site-packages"


def run(installed: Path | None, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m site_builder ...` from the installed copy, or (None) from this tree."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if installed is not None:
        env["PYTHONPATH"] = str(installed)  # before site-packages, where this tree is installed (editable)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_wheel_imports_its_compiled_modules(installed: Path, tmp_path: Path) -> None:
    modules = compiled_modules()
    shown = run(installed, tmp_path, "-c", f"import importlib; print(*(importlib.import_module(m).__file__ for m in {modules!r}), sep='\\n')")
    assert shown.returncode == 0, shown.stderr
    found = shown.stdout.split()
    assert len(found) == len(modules) and all(path.startswith(str(installed)) and path.endswith(".so") for path in found), found


def test_the_wheel_has_the_code_version_of_its_sources(installed: Path, tmp_path: Path) -> None:
    """The caches name the code that wrote them (incremental.code_version): the compiled modules are
    made from the .py files beside them, which are what it hashes."""
    shown = [run(copy, tmp_path, "-c", "from site_builder.incremental import code_version; print(code_version())") for copy in (installed, None)]
    assert all(done.returncode == 0 for done in shown), [done.stderr for done in shown]
    assert shown[0].stdout == shown[1].stdout


@pytest.mark.parametrize("content", ["fixture", "corpus"])
def test_compiled_and_plain_modules_build_the_same_site(installed: Path, tmp_path: Path, content: str) -> None:
    if content == "corpus" and not (SHARED / "corpus" / "everyday-ai").is_dir():
        pytest.skip("../shared/corpus/everyday-ai is not here")
    outputs = []
    for copy in (installed, None):
        project = tmp_path / ("compiled" if copy else "plain")
        shutil.copytree(FIXTURE, project)
        args = ["-m", "site_builder", "build", "--project", str(project), "--no-search", "--jobs", "2"]
        if content == "corpus":
            args += ["--content", str(SHARED / "corpus" / "everyday-ai")]
        built = run(copy, tmp_path, *args)
        assert built.returncode == 0, built.stderr
        outputs.append(files(project / "public"))
    compiled, plain = outputs
    assert len(plain) > 20 and compiled.keys() == plain.keys()
    assert [path for path in plain if compiled[path] != plain[path]] == []
