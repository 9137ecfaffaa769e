"""The `genelang` click group every command module adds its commands to."""
from __future__ import annotations

import click

from genelang import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="genelang")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE", envvar="GENELANG_PLUGINS",
              help="Import MODULE first (repeatable; or GENELANG_PLUGINS, space-separated): the spaces, ops, "
                   "tasks, estimators and strategies it registers are known to every command.")
def cli(plugins: tuple[str, ...]) -> None:
    """genelang: write neural architectures as gene expressions, compile,
    train and evolve them.

    \b
    Typical use:
      genelang check cells/*.gene          find every error in genotype files
      genelang show best.gene              decoded trees and cell DAGs
      genelang evolve spec.yaml            run (or resume) a search
      genelang compile best.gene --to torchscript -o best.pt
    """
    if plugins:
        from pathlib import Path

        from genelang.plugins import load_plugins
        load_plugins(plugins, source="--plugin", base=Path.cwd())
