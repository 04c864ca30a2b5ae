import sys

from ml_ci.cli import main

sys.exit(main())
