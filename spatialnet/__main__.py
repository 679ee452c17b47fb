"""``python -m spatialnet`` (also what ``torchrun -m spatialnet`` launches)."""

import sys

from spatialnet.cli.main import main

sys.exit(main())
