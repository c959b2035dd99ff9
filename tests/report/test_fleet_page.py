"""The fleet page at 200 hosts: small enough, and opened by a real browser with its matrix and script working."""
from __future__ import annotations

import re
import struct
import zlib

from fleet import chromium, fleet_page

HOSTS = 200
LIMIT = 5 * 1024 * 1024


def test_the_page_stays_under_five_megabytes(tmp_path):
    assert fleet_page(HOSTS, tmp_path).stat().st_size < LIMIT


def test_chromium_shows_the_matrix_and_runs_the_filters(tmp_path):
    page = fleet_page(HOSTS, tmp_path)
    dom = chromium("--dump-dom", page.as_uri()).stdout
    # The script ran (it marks the page), in spite of the Content-Security-Policy, which it must pass by its hash.
    assert re.search(r'<body[^>]*data-ready="yes"', dom)
    matrix = dom.split('id="matrix"', 1)[1].split("</table>", 1)[0]
    assert matrix.count("<tr data-host=") == HOSTS
    assert re.search(r'<span id="f-count">%d of %d hosts</span>' % (HOSTS, HOSTS), dom)
    assert dom.count('<details class="host"') == HOSTS and '<details class="host" id="host-0" open' not in dom


def test_a_screenshot_shows_the_matrix(tmp_path):
    page = fleet_page(HOSTS, tmp_path)
    shot = tmp_path / "fleet.png"
    chromium(f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 1000)
    pixels = rgb_pixels(data)
    # The matrix is painted: cells of a failing control are red (#b42318), of a passing one green (#e6f4ea).
    assert pixels.count((0xB4, 0x23, 0x18)) > 500
    assert pixels.count((0xE6, 0xF4, 0xEA)) > 500


def rgb_pixels(data: bytes) -> list:
    """The pixels of an 8-bit RGB or RGBA PNG, as (r, g, b) tuples (the PNG filters undone)."""
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8 and colour in (2, 6)
    step = 3 if colour == 2 else 4
    raw, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            raw += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(raw)
    stride = width * step
    previous = bytearray(stride)
    pixels = []
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 0xFF
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, step))
        previous = line
    return pixels
