"""ml_ci.cpu: NumPy's AVX-512 sort is switched off on Zen 4 only, and never against the user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml_ci import cpu

ZEN4 = (
    "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
    "flags\t\t: fpu sse2 avx2 avx512f avx512dq avx512bw\n\n"
    "processor\t: 1\nvendor_id\t: AuthenticAMD\n"
)
ZEN3 = ZEN4.replace(" avx512f avx512dq avx512bw", "")
ZEN5 = ZEN4.replace("cpu family\t: 25", "cpu family\t: 26")
INTEL = ZEN4.replace("AuthenticAMD", "GenuineIntel").replace(": 25", ": 6")


@pytest.mark.parametrize(
    ("cpuinfo", "slow"), [(ZEN4, True), (ZEN3, False), (ZEN5, False), (INTEL, False), ("", False)]
)
def test_only_zen4_with_avx512_counts_as_slow(cpuinfo: str, slow: bool) -> None:
    assert cpu.has_slow_avx512_sort(cpuinfo) is slow


def test_only_the_first_processor_block_is_read() -> None:
    # a later block claiming Zen 4 does not change the answer for the first one
    assert not cpu.has_slow_avx512_sort("vendor_id\t: GenuineIntel\n\n" + ZEN4)


@pytest.fixture
def numpy_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "numpy", raising=False)  # restored after the test


@pytest.mark.usefixtures("numpy_not_loaded")
def test_sets_the_switch_on_zen4(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ZEN4)
    environ: dict[str, str] = {}
    assert cpu.prefer_fast_sort(environ, cpuinfo)
    assert environ == {cpu.NUMPY_SWITCH: cpu.avx512_targets(cpu._numpy_version())}


@pytest.mark.usefixtures("numpy_not_loaded")
@pytest.mark.parametrize("preset", ["", "AVX2"])
def test_a_value_the_user_set_is_kept(tmp_path: Path, preset: str) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ZEN4)
    environ = {cpu.NUMPY_SWITCH: preset}
    assert not cpu.prefer_fast_sort(environ, cpuinfo)
    assert environ == {cpu.NUMPY_SWITCH: preset}


@pytest.mark.usefixtures("numpy_not_loaded")
def test_other_cpus_and_no_cpuinfo_leave_the_environment_alone(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ZEN5)
    environ: dict[str, str] = {}
    assert not cpu.prefer_fast_sort(environ, cpuinfo)
    assert not cpu.prefer_fast_sort(environ, tmp_path / "missing")
    assert environ == {}


def test_too_late_once_numpy_is_imported(tmp_path: Path) -> None:
    import numpy  # noqa: F401

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(ZEN4)
    environ: dict[str, str] = {}
    assert not cpu.prefer_fast_sort(environ, cpuinfo)
    assert environ == {}


@pytest.mark.parametrize(("version", "names"), [((2, 4), "X86_V4"), ((1, 26), "AVX512_SKX")])
def test_target_names_follow_numpy_naming(version: tuple[int, int], names: str) -> None:
    assert names in cpu.avx512_targets(version).split()


def test_the_installed_numpy_accepts_the_names() -> None:
    """NumPy warns about a name it does not dispatch to; here that warning is an error."""
    names = cpu.avx512_targets(cpu._numpy_version())
    done = subprocess.run(
        [sys.executable, "-W", "error::ImportWarning", "-c", "import numpy"],
        env={**os.environ, cpu.NUMPY_SWITCH: names},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
