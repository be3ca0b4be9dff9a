"""`python -m latchkey.cli`: the `latchkey` command."""

import sys

from latchkey.cli.commands import main

sys.exit(main())
