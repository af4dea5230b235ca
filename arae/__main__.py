"""`python -m arae`: the same command line as run_all.py; `python -m arae score ...` scores a system's transfers."""
import sys

from arae.cli import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["score"]:
        from arae.score import main as score_main
        sys.exit(score_main(sys.argv[2:]))
    sys.exit(main(prog="python -m arae"))
