"""`python -m quarry` is the `quarry` command."""

from quarry.agent.cli.main import entry

entry()
