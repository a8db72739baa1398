"""`python -m facestudio` is the `facestudio` command."""

import sys

from facestudio.cli import main

sys.exit(main())
