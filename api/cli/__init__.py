"""`ecgscreen`: the command line. Each sub-command lives in its own module and registers on `app`."""

from __future__ import annotations

import sys

from api.cli import agreement as _agreement  # noqa: E402,F401

# Sub-commands register themselves on import (one module per command).
from api.cli import analyze as _analyze  # noqa: E402,F401
from api.cli import batch as _batch  # noqa: E402,F401
from api.cli import classify as _classify  # noqa: E402,F401
from api.cli import digitize as _digitize  # noqa: E402,F401
from api.cli import report as _report  # noqa: E402,F401
from api.cli import serve as _serve  # noqa: E402,F401
from api.cli import synth as _synth  # noqa: E402,F401
from api.cli._app import UserError, app, err_console
from ecg.errors import EcgInputError, ModelError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: user errors become one line on stderr and exit code 2, model faults (missing,
    corrupt or unreadable model files: the installation's fault) exit code 3; never a traceback."""
    try:
        app()
    except UserError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.code)
    except EcgInputError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(2)
    except ModelError as exc:
        err_console.print(f"[red]error:[/red] model unavailable: {exc}", highlight=False)
        sys.exit(3)
    except FileNotFoundError as exc:
        err_console.print(f"[red]error:[/red] file not found: {exc.filename or exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
