"""The typer application every command module registers on."""

import typer

app = typer.Typer(
    name="spanqa",
    help="Find annotation errors in clinical NER corpora: check, compare, agree, audit, demo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
