"""Share the Molecule scenarios among lanes that run side by side, each lane's scenarios one after the other.

    lanes.py N SYSTEMD_SCENARIOS -- SCENARIOS     prints N comma-separated lanes

The scenarios with systemd hosts all go to the first lane, one after the other (two systemd hosts booting or
restarting at once have failed sendmail's restart); the others go, longest first, each to the lane that ends
soonest (by the seconds below, measured on CI's kind of machine; a scenario not listed counts as DEFAULT).
With N of 1, every scenario in one lane, in the order given.
"""
from __future__ import annotations

import sys

# Seconds each scenario took in a full run of `make test` (three lanes, 2 cores).
SECONDS = {
    "privdrop": 103, "trixie": 111, "legacy": 107, "default": 89, "audit": 88, "lab": 60, "el9": 104, "faults": 128,
    "journal": 79, "profiles": 297, "runas": 63, "tags": 230, "invalid": 41, "daemon": 31, "upgrades": 104,
    "included": 65, "slices": 20, "compare": 24, "transit": 85,
}
DEFAULT = 90


def lanes(count: int, systemd: list, scenarios: list) -> list:
    if count <= 1:
        return [list(scenarios)]
    shared = [name for name in scenarios if name in systemd]
    result = [shared] + [[] for _number in range(count - 1)]
    load = [sum(SECONDS.get(name, DEFAULT) for name in shared)] + [0] * (count - 1)
    for name in sorted((n for n in scenarios if n not in systemd), key=lambda n: -SECONDS.get(n, DEFAULT)):
        lane = min(range(count), key=lambda number: load[number])
        result[lane].append(name)
        load[lane] += SECONDS.get(name, DEFAULT)
    return [lane for lane in result if lane]


def main(argv: list) -> int:
    if len(argv) < 2 or "--" not in argv or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    print(" ".join(",".join(lane) for lane in lanes(int(argv[0]), argv[1:split], argv[split + 1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
