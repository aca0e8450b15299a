import os
import subprocess
import sys

from typer.testing import CliRunner

from matchgate.cli.commands import register
from matchgate.cli.helptext import reflowed
from matchgate.cli.main import app


def test_help_lists_program_purpose() -> None:
    register(app)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "master file" in result.output


def test_command_help_reads_as_sentences_in_an_80_column_terminal() -> None:
    """A docstring's line breaks are not kept in the help (Typer keeps them, and the help then
    wraps mid-sentence): each paragraph is reflowed, list items keep their own lines."""
    assert reflowed("One\n  line.\n\n- item one\n  continued\n- item two\n\n\bkept\nas is") == \
        "One line.\n\n- item one continued\n- item two\n\n\bkept\nas is"
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-m", "matchgate", "audit", "consistency", "--help"],
                         capture_output=True, text=True, env=env, check=True).stdout
    # the paragraph runs on to the terminal's width: the words the docstring's line break
    # separated ("digest of" / "their ids") stand on one line
    assert any("digest of their ids" in line for line in out.splitlines()), out
