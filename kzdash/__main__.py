"""`python -m kzdash build --input DIR --out DIR`."""

import sys

from kzdash.cli import main

sys.exit(main())
