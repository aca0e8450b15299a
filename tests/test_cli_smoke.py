from typer.testing import CliRunner

from matchgate.cli.commands import register
from matchgate.cli.main import app


def test_help_lists_program_purpose() -> None:
    register(app)
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "master file" in result.output
