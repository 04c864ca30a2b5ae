"""Run the fake GitHub API as a process: ``python -m tests.fakegithub --port 0 --state s.json``.

Prints the API URL on the first line of stdout, then serves until SIGTERM/SIGINT; with
``--dump FILE`` it writes the final state (and violations) there on exit.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.fakegithub.server import FakeGitHub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakegithub")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prefix", default="", help="e.g. /api/v3 as on GitHub Enterprise Server")
    parser.add_argument("--state", type=Path, help="initial state (JSON, see README.md)")
    parser.add_argument("--dump", type=Path, help="write the final state here on exit")
    args = parser.parse_args(argv)
    server = FakeGitHub(host=args.host, port=args.port, prefix=args.prefix)
    server.start()  # first: bodies carry the server's URL
    if args.state:
        server.load_state(json.loads(args.state.read_text(encoding="utf-8")))
    print(server.url, flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    done.wait()
    if args.dump:
        args.dump.write_text(json.dumps(server.dump_state(), indent=1), encoding="utf-8")
    server.stop()
    return 1 if server.violations else 0


if __name__ == "__main__":
    sys.exit(main())
