"""The exit codes commands return for their outcomes (quarry.errors.ExitCode; errors carry their own)."""

from quarry.errors import ExitCode

EXIT_OK = ExitCode.OK
EXIT_REFUSED = ExitCode.REFUSED
EXIT_ENVIRONMENT = ExitCode.UNAVAILABLE
