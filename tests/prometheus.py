"""A real Prometheus server for tests: Debian's package, on 127.0.0.1, with backfilled data.

``start_prometheus(work, openmetrics, rule_files)`` turns OpenMetrics text into TSDB blocks with
``promtool tsdb create-blocks-from openmetrics`` (the way history is backfilled), starts
``prometheus`` on a free port of 127.0.0.1 over them with the given rule files (evaluated every
second), waits until it answers ``/-/ready`` (bounded) and returns a handle. It scrapes nothing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        answer = requests.get(f"{self.url}/api/v1/query", params=params, timeout=10).json()
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def get(self, path: str) -> Any:
        answer = requests.get(f"{self.url}{path}", timeout=10).json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def need_prometheus() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not (prometheus and promtool):
        pytest.fail("Debian's prometheus package is missing: run the test command (scripts/test)")
    return prometheus, promtool


def start_prometheus(work: Path, openmetrics: str, rule_files: list[Path]) -> Prometheus:
    prometheus, promtool = need_prometheus()
    data = work / "tsdb"
    data.mkdir(parents=True)
    source = work / "backfill.om"
    source.write_text(openmetrics, encoding="utf-8")
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        check=True,
        capture_output=True,
    )
    config = work / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"evaluation_interval": "1s"},
                "rule_files": [str(path) for path in rule_files],
                "scrape_configs": [],
            }
        ),
        encoding="utf-8",
    )
    port = _free_port()
    log = work / "prometheus.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{server.url}/-/ready", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"prometheus not ready in 60 s: {log.read_text()[-2000:]}")
