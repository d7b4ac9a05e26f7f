"""`python -m spy_abi`: the spy-abi command."""

import sys

from .cli import main

sys.exit(main())
