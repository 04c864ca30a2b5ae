"""Start-up time of the ml-ci pre-commit hooks on a repository of 1,000 files, vs their peers.

Usage: python benchmarks/bench_hooks.py [--files 1000] [--repeat 7]

Builds a throw-away git + DVC-style repository (``dvc.yaml``/``dvc.lock``/``params.yaml``, 1,000
committed files: Python modules, small CSVs, YAML) and times each hook the way pre-commit
calls it (a fresh process, every file name as an argument), median of ``--repeat`` runs.
The named peers run on the same files: pre-commit-hooks' ``check-yaml`` and
``check-added-large-files``, and DVC's own pre-commit hook (``dvc git-hook pre-commit``,
which runs ``dvc status``). Target: each ml-ci hook under 0.3 s.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TARGET_S = 0.3


def build_repo(root: Path, files: int) -> list[str]:
    """A committed repository with ``files`` files and a one-stage DVC pipeline."""
    (root / "src").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "conf").mkdir()
    names: list[str] = []
    for index in range(files):
        kind = index % 3
        if kind == 0:
            name = f"src/module_{index}.py"
            text = f"import random\n\nrandom.seed({index})\nVALUE = random.random()\n"
        elif kind == 1:
            name = f"data/sample_{index}.csv"
            text = "id,x\n" + "".join(f"{i},{i * 0.5}\n" for i in range(20))
        else:
            name = f"conf/settings_{index}.yaml"
            text = f"name: s{index}\nvalues: [1, 2, 3]\n"
        (root / name).write_text(text)
        names.append(name)
    train = b"print('train')\n"
    (root / "train.py").write_bytes(train)
    (root / "params.yaml").write_text("seed: 1\n")
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    deps: [train.py]\n"
        "    params: [seed]\n    outs: [model.pkl]\n"
    )
    md5 = hashlib.md5(train, usedforsecurity=False).hexdigest()
    (root / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    deps:\n"
        f"    - path: train.py\n      hash: md5\n      md5: {md5}\n      size: {len(train)}\n"
        "    params:\n      params.yaml:\n        seed: 1\n    outs:\n    - path: model.pkl\n"
        "      hash: md5\n      md5: 0f343b0931126a20f133d67c2b018a3b\n      size: 10\n"
    )
    (root / "ml-ci.yaml").write_text("version: 1\ntask: binary\nmodel:\n  name: bench\n")
    names += ["train.py", "params.yaml", "dvc.yaml", "dvc.lock", "ml-ci.yaml"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=root, check=True, env=_env())
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "bench"],
        cwd=root,
        check=True,
    )
    return names


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}


def timed(command: list[str], cwd: Path, repeat: int) -> tuple[float, int]:
    """Median wall time of ``command`` (a fresh process each time) and its last exit code."""
    times: list[float] = []
    code = 0
    for _ in range(repeat):
        start = time.perf_counter()
        code = subprocess.run(command, cwd=cwd, capture_output=True, env=_env()).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ml_ci = str(BIN / "ml-ci")
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp) / "repo"
        names = build_repo(root, args.files)
        python = [n for n in names if n.endswith(".py")]
        yamls = [n for n in names if n.endswith((".yaml", ".yml"))]
        rows = [
            ("ml-ci-config", [ml_ci, "hook", "config", "ml-ci.yaml"],
             "check-yaml", [str(BIN / "check-yaml"), *yamls]),
            ("ml-ci-dvc-lock", [ml_ci, "hook", "dvc-lock"],
             "dvc git-hook pre-commit", [str(BIN / "dvc"), "git-hook", "pre-commit"]),
            ("ml-ci-no-large-data", [ml_ci, "hook", "no-large-data", *names],
             "check-added-large-files", [str(BIN / "check-added-large-files"), *names]),
            ("ml-ci-determinism", [ml_ci, "hook", "determinism", *python],
             "check-yaml", [str(BIN / "check-yaml"), *yamls]),
        ]  # fmt: skip
        print(f"{args.files} files, median of {args.repeat} runs (target < {TARGET_S} s)")
        print(f"{'hook':22} {'time s':>7} {'exit':>4}  {'peer':26} {'time s':>7}  ratio")
        worst = 0.0
        for name, command, peer, peer_command in rows:
            seconds, code = timed(command, root, args.repeat)
            if shutil.which(peer_command[0]) is None:
                peer_seconds = float("nan")
            else:
                peer_seconds, _ = timed(peer_command, root, args.repeat)
            worst = max(worst, seconds)
            ratio = seconds / peer_seconds if peer_seconds == peer_seconds else float("nan")
            print(
                f"{name:22} {seconds:7.3f} {code:4d}  {peer:26} {peer_seconds:7.3f}  {ratio:5.2f}x"
            )
        print(f"slowest ml-ci hook: {worst:.3f} s ({'OK' if worst < TARGET_S else 'OVER'} target)")
        return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
