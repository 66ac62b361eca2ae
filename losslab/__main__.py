"""`python -m losslab`: the same as the `losslab` command."""

from losslab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
