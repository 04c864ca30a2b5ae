"""``actions/setup``'s installer (src/ml_ci/pack/install.py) on an interpreter too old for it.

No older Python is installable here, so the check runs with fake version tuples, and the
script itself runs with ``sys.version_info`` faked and ``tomllib`` hidden (as on 3.10)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from ml_ci.pack import install
from tests.pack.snapshot import PROJECT

SCRIPT = PROJECT / "src" / "ml_ci" / "pack" / "install.py"


def test_python_check_with_fake_versions() -> None:
    line = install.python_problem((3, 9, 18, "final", 0))
    assert line is not None and "\n" not in line
    assert "3.9.18" in line and "3.11" in line and "actions/setup-python" in line
    assert install.python_problem((3, 10)) is not None
    assert install.python_problem((3, 11, 0)) is None
    assert install.python_problem((3, 13, 1)) is None


def test_an_old_interpreter_gets_one_line_not_a_traceback() -> None:
    # as Python 3.10 would run it: no tomllib module, version 3.10.14
    code = (
        "import runpy, sys\n"
        "sys.modules['tomllib'] = None\n"
        "sys.version_info = (3, 10, 14, 'final', 0)\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("::error::ml-ci needs Python 3.11") and "3.10.14" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_the_projects_requirements_go_into_ml_cis_environment(tmp_path: Path) -> None:
    """A real pip install -r (of a local folder package, no index) into a real venv."""
    import venv

    from ml_ci.pack.install import install_requirements

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    wheel = tmp_path / "needed_by_training-1.0-py3-none-any.whl"  # the smallest valid wheel
    info = "needed_by_training-1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("needed_by_training/__init__.py", "VALUE = 42\n")
        archive.writestr(
            f"{info}/METADATA", "Metadata-Version: 2.1\nName: needed-by-training\nVersion: 1.0\n"
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{wheel}\n")
    environ = {**os.environ, "PIP_NO_INDEX": "1"}
    assert not install_requirements(env_dir / "bin", str(tmp_path / "absent.txt"), environ)
    assert not install_requirements(env_dir / "bin", "", environ)
    assert install_requirements(env_dir / "bin", str(requirements), environ)
    done = subprocess.run(
        [str(env_dir / "bin/python"), "-c", "import needed_by_training as m; print(m.VALUE)"],
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "42", done.stderr
