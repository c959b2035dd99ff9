"""Progress on stderr: image builds take a while and silence looks like a hang."""
from __future__ import annotations

import sys
import time

_START = time.monotonic()


def say(message: str) -> None:
    print(f"[lab {time.monotonic() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)
