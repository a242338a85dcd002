"""``python -m switchyard`` is the ``switchyard`` command."""

from switchyard.cli import app

app(prog_name="switchyard")
