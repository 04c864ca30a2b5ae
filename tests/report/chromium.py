"""Headless Chromium (Debian package ``chromium``) and a tiny PNG reader for the HTML tests."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run(html: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    assert binary is not None
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={work / 'profile'}", *extra, html.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def screenshot(html: Path, png: Path, work: Path) -> None:
    run(html, work, f"--screenshot={png}", "--window-size=1200,1600")


def dump_dom(html: Path, work: Path) -> str:
    return run(html, work, "--dump-dom").stdout


def read_png(path: Path, max_rows: int | None = None) -> tuple[int, int, int, bytes]:
    """(width, height, channels, raw pixels) of an 8-bit RGB/RGBA/grey PNG (no interlace).

    ``max_rows`` decodes only the top of the image (PNG filters look at earlier rows only).
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced PNGs"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    pixels = bytearray()
    previous = bytearray(stride)
    for row in range(height if max_rows is None else min(height, max_rows)):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):  # undo the PNG filter of this scanline
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + predictor) & 0xFF
        pixels += line
        previous = line
    return width, height, channels, bytes(pixels)


def grey_variance(path: Path, max_rows: int = 500) -> float:
    """Variance of the grey level of the top ``max_rows`` rows (0 for a blank image)."""
    _, _, channels, pixels = read_png(path, max_rows)
    step = channels
    greys = [
        sum(pixels[i : i + min(3, channels)]) / min(3, channels)
        for i in range(0, len(pixels), step * 7)
    ]  # every 7th pixel is plenty
    mean = sum(greys) / len(greys)
    return sum((g - mean) ** 2 for g in greys) / len(greys)
