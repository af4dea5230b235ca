#!/usr/bin/env python
"""Regenerates the paper's tables; see `python run_all.py --help`."""
import sys

from arae.cli import main

if __name__ == "__main__":
    sys.exit(main())
