from __future__ import annotations

import sys

from mailsec_lab.cli import main

sys.exit(main())
