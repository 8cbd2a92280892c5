"""The Typer application every `ecgscreen` sub-command registers on, and helpers they share."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ecg.errors import EcgInputError

app = typer.Typer(
    name="ecgscreen",
    help="ECG screening: digitize paper ECG images, measure, classify, cross-check and report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

T = TypeVar("T")


def progress(items: Iterable[T], total: int, description: str) -> Iterator[T]:
    """Yield ``items`` while drawing a progress bar on stderr (hidden when there is a single item)."""
    if total <= 1:
        yield from items
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)


def write_json(data: Any, out: Path | None) -> None:
    """Write ``data`` as indented JSON to ``out``, or to stdout when ``out`` is ``None``."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


def fail(message: str, code: int = 2) -> None:
    """Stop with a one-line error on stderr and a non-zero exit code."""
    raise UserError(message, code)


class UserError(EcgInputError):
    """A command-line usage problem; carries the exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code
