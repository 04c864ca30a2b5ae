"""Annotations, step outputs and the job summary: GitHub's file and command formats."""

from __future__ import annotations

import re
from pathlib import Path

from ml_ci.github.publish import (
    MAX_SUMMARY_BYTES,
    Annotation,
    annotation_lines,
    append_summary,
    status_payload,
    write_outputs,
)


def test_annotations_escape_and_cap() -> None:
    notes = [Annotation("error", f"gate,{i}: x", f"50% worse\nsee report {i}") for i in range(12)]
    notes += [Annotation("warning", "w", "maybe")]
    lines = annotation_lines(notes)
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 10 and len(lines) == 11
    assert errors[0] == "::error title=gate%2C0%3A x::50%25 worse%0Asee report 0"
    assert errors[-1].endswith("::3 more; see the report")


def test_outputs_use_the_multiline_delimiter_syntax(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_text("earlier=1\n")
    write_outputs(path, {"verdict": "fail", "comment-url": "https://x/1\nsecond line"})
    text = path.read_text()
    assert text.startswith("earlier=1\n")
    found = re.findall(r"^([\w-]+)<<(ghadelimiter_[0-9a-f-]+)\n(.*?)\n\2$", text, re.M | re.S)
    assert [(name, value) for name, _, value in found] == [
        ("verdict", "fail"),
        ("comment-url", "https://x/1\nsecond line"),
    ]


def test_summary_never_exceeds_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * (MAX_SUMMARY_BYTES - 1000))
    written = append_summary(path, "é" * 5000)
    assert path.stat().st_size <= MAX_SUMMARY_BYTES and written > 0
    path.read_text(encoding="utf-8")  # still valid UTF-8 after the cut
    assert "1 MiB" in path.read_text(encoding="utf-8")


def test_status_description_fits_140_characters() -> None:
    run = "https://github.com/acme/models/actions/runs/1"
    payload = status_payload("failure", "x" * 500, target_url=run)
    assert len(payload["description"]) == 140 and payload["context"] == "ml-ci/gates"
    assert payload["target_url"] == run
    # a link off the GitHub server's host is dropped, never sent as the status's link
    assert "target_url" not in status_payload("failure", "x", target_url="https://evil.example/")
