"""The sample of the selection sweep (bench_selections.py --sample): every family of the hardening alone and
switched off on one profile, and the default run on tls and el9, each on a fresh light host, without a failure:
the .cf validates, mail is submitted and delivered, the daemon runs, --check promised what the run changed,
and a full run then converges. The whole sweep is `make bench-selections`."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import LAB_DIR

sys.path.insert(0, str(LAB_DIR))
from bench_selections import SAMPLE_DEFAULT, catalogue  # noqa: E402

COLLECTION = LAB_DIR.parent.parent / "build/installed/ansible_collections/mailsec/sendmail"


def test_selection_sample_has_no_failure(lab_state):
    assert COLLECTION.is_dir(), f"{COLLECTION} is missing: `make build` installs the collection the sample hardens with"
    proc = subprocess.run([sys.executable, str(LAB_DIR / "bench_selections.py"), "--sample"], capture_output=True, text=True,
                          check=False, env=dict(os.environ, PYTHONPATH=str(LAB_DIR)), stdin=subprocess.DEVNULL, timeout=1200)
    report = proc.stdout[-8000:] + proc.stderr[-3000:]
    # Every family the hardening fixes, alone and switched off, and the default run: as many as the catalogue says.
    cat = catalogue()
    pairs = 2 * len([family for family in cat.FAMILIES if family not in cat.AUDIT_ONLY_FAMILIES]) + len(SAMPLE_DEFAULT)
    assert re.search(r"^0 failures in %d \(selection, profile\) pairs" % pairs, proc.stdout, re.M), report
    assert proc.returncode == 0, report
