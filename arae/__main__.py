"""`python -m arae`: the same command line as run_all.py."""
import sys

from arae.cli import main

if __name__ == "__main__":
    sys.exit(main())
