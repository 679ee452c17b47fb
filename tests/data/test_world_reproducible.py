"""The embedded default world is the same bytes whatever the install and whatever lies beside it.

``synth`` runs once from the installed package (an editable install inside a checkout, with
``../shared`` beside it on CI) and once from a plain copy of the package in a bare folder (as
``pip install .`` puts it): every file must have the same MD5.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import spatialnet

SYNTH = ["synth", "--num-images", "21", "--forest-size", "160", "--no-progress", "--workers", "1"]


def _synth(out: Path, pythonpath: Path | None) -> str:
    """Run ``spatialnet synth`` into ``out`` in a fresh process; the package file it imported."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    if pythonpath is None:
        env.pop("PYTHONPATH", None)
    code = (
        "import runpy, sys, spatialnet; print(spatialnet.__file__); "
        "sys.argv = ['spatialnet', *sys.argv[1:]]; runpy.run_module('spatialnet', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *SYNTH, "--out", str(out)],
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()[0]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_world_bytes_do_not_depend_on_install_or_shared_data(tmp_path: Path) -> None:
    package = Path(spatialnet.__file__).parent
    plain = tmp_path / "site"
    shutil.copytree(
        package, plain / "spatialnet", ignore=shutil.ignore_patterns("__pycache__", "*.safetensors")
    )
    (tmp_path / "installed").mkdir()
    (tmp_path / "copied").mkdir()
    installed = _synth(tmp_path / "installed" / "world", None)
    copied = _synth(tmp_path / "copied" / "world", plain)
    assert Path(copied).parent == plain / "spatialnet" and Path(installed).parent == package
    first, second = _digests(tmp_path / "installed" / "world"), _digests(tmp_path / "copied" / "world")
    assert "taiga/synthesis.json" in first and len(first) > 50
    assert first == second
