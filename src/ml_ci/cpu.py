"""Steer NumPy away from its AVX-512 sort on AMD Zen 4, where that sort is ~5x slower.

NumPy sorts with x86-simd-sort. Its AVX-512 kernels store through ``vpcompress*`` with a memory
destination, which Zen 4 runs microcoded (over 100 cycles each): ``np.sort`` of 1,000,000
float64 takes ~53 ms there against ~10 ms for the AVX2 kernels of the same library (measured on
the benchmark machine, an AMD EPYC of family 25). Known upstream: numpy/x86-simd-sort#6 and the
discussion of numpy/numpy#32690; Zen 5 (family 26) fixed the instruction.

NumPy reads ``NPY_DISABLE_CPU_FEATURES`` once, at import, so :func:`prefer_fast_sort` must run
before anything imports numpy; ``ml-ci``'s entry point calls it first. It never overrides a
value the user set (set ``NPY_DISABLE_CPU_FEATURES=`` to keep NumPy's own choice).
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from pathlib import Path

NUMPY_SWITCH = "NPY_DISABLE_CPU_FEATURES"

# AVX-512 dispatch targets by name. NumPy >= 2.4 groups them as X86_V4; older releases name
# each. A name NumPy does not dispatch draws an ImportWarning, hence one list per naming.
AVX512_TARGETS = "X86_V4 AVX512_ICL AVX512_SPR"
AVX512_TARGETS_BEFORE_2_4 = (
    "AVX512F AVX512CD AVX512_KNL AVX512_KNM AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
)

ZEN4_FAMILY = 25  # AMD family 19h: Zen 3 (no AVX-512) and Zen 4


def has_slow_avx512_sort(cpuinfo: str) -> bool:
    """True for an AMD family-25 CPU that reports AVX-512 (that is, Zen 4), from the text of
    ``/proc/cpuinfo``; only the first processor's block is read."""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return (
        fields.get("vendor_id") == "AuthenticAMD"
        and fields.get("cpu family") == str(ZEN4_FAMILY)
        and "avx512f" in fields.get("flags", "").split()
    )


def prefer_fast_sort(
    environ: MutableMapping[str, str], cpuinfo_path: Path = Path("/proc/cpuinfo")
) -> bool:
    """Disable NumPy's AVX-512 kernels in ``environ`` on Zen 4, unless the user set
    ``NPY_DISABLE_CPU_FEATURES`` or numpy is already imported. True if it did."""
    if NUMPY_SWITCH in environ or "numpy" in sys.modules:
        return False
    try:
        with cpuinfo_path.open(errors="replace") as handle:
            cpuinfo = handle.read(1 << 15)  # the first processor's block is enough
    except OSError:  # not Linux, or a sandbox without /proc
        return False
    if not has_slow_avx512_sort(cpuinfo):
        return False
    environ[NUMPY_SWITCH] = avx512_targets(_numpy_version())
    return True


def avx512_targets(numpy_version: tuple[int, int]) -> str:
    """The AVX-512 target names that NumPy ``numpy_version`` (major, minor) dispatches to."""
    return AVX512_TARGETS if numpy_version >= (2, 4) else AVX512_TARGETS_BEFORE_2_4


def _numpy_version() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor, *_ = version("numpy").split(".")
    return int(major), int(minor)
