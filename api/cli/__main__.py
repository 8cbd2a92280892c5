"""`python -m api.cli`: the same as the `ecgscreen` console script."""

from api.cli import main

main()
