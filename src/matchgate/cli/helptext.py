"""Command help from docstrings, its paragraphs reflowed for the terminal.

Typer (0.29) keeps a docstring's single line breaks in every paragraph after the first, so a
help text written at 100 columns wraps mid-sentence in an 80-column terminal ("the digest of" /
"their ids"). Each command's help is set here from its docstring with the lines of a paragraph
joined; a line that starts a list item ("- ", "* ", "1. ") keeps its own line, and a paragraph
that starts with Click's "\\b" marker is left as written.
"""

from __future__ import annotations

import inspect
import re

import typer

_ITEM = re.compile(r"^\s*(?:[-*]|\d+[.)])\s")


def reflowed(text: str) -> str:
    """The text with each paragraph's lines joined (list items and "\\b" paragraphs kept)."""
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        if paragraph.startswith("\b"):
            paragraphs.append(paragraph)
            continue
        lines: list[str] = []
        for line in paragraph.splitlines():
            if lines and not _ITEM.match(line):
                lines[-1] = f"{lines[-1]} {line.strip()}"
            else:
                lines.append(line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def reflow_help(app: typer.Typer) -> None:
    """Set every command's help (in the app and its groups) from its docstring, reflowed."""
    for command in app.registered_commands:
        text = command.help if isinstance(command.help, str) else None
        if text is None and command.callback is not None:
            text = inspect.getdoc(command.callback)
        if text:
            command.help = reflowed(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
