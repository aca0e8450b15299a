from matchgate.cli.main import run

run()
