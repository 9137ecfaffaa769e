"""genelang: a genotype language and toolchain for NAS by gene expression programming.

Every command is a function here (imported on first use, so `import genelang`
stays light):

    gf = genelang.load_file("cell.gene")              # parse + check (CheckError lists every problem)
    net = genelang.build_network(gf.genomes[0])        # an nn.Module
    r = genelang.train(gf.genomes[0], genelang.TaskConfig("digits"), epochs=1)
    res = genelang.evolve(genelang.load_spec("spec.yaml"))
    run = genelang.load_run(res.run_dir)              # evaluations as a pandas DataFrame
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> (module, attribute)
_API = {
    # language
    "parse_text": ("genelang.compiler", "parse_text"),
    "parse_file": ("genelang.compiler", "parse_file"),
    "check_file": ("genelang.compiler", "check_file"),
    "load_text": ("genelang.compiler", "load_text"),
    "load_file": ("genelang.compiler", "load_file"),
    "format_file": ("genelang.compiler", "format_file"),
    "format_genome": ("genelang.compiler", "format_genome"),
    "import_darts": ("genelang.compiler.darts_import", "import_darts"),
    # building, training, shipping
    "TaskConfig": ("genelang.runtime.config", "TaskConfig"),
    "ModelConfig": ("genelang.runtime.config", "ModelConfig"),
    "build_network": ("genelang.runtime.networks", "build_network"),
    "make_model": ("genelang.runtime.models", "make_model"),
    "train": ("genelang.runtime.train", "train_genome"),
    "compile_genome": ("genelang.runtime.ship", "compile_genome"),
    "load_network": ("genelang.runtime.ship", "load_network"),
    # searching
    "load_spec": ("genelang.evolve.spec.schema", "load_spec"),
    "parse_spec": ("genelang.evolve.spec.schema", "parse_spec"),
    "evolve": ("genelang.evolve", None),   # the package, callable as run_search (evolve/__init__.py)
    "run_status": ("genelang.evolve.run.status", "run_status"),
    "load_run": ("genelang.evolve.run.runs", "load_run"),
    "retrain": ("genelang.evolve.run.runs", "retrain"),
    "build_supernet": ("genelang.evolve.estimators.oneshot", "build_supernet"),
    "train_supernet": ("genelang.runtime.supernet", "train_supernet"),
    "recalibrate_bn": ("genelang.runtime.supernet", "recalibrate_bn"),
    # watching a search: the run page
    "run_page_data": ("genelang.report", "run_page_data"),
    "write_report": ("genelang.report", "write_report"),
    "serve_run": ("genelang.report", "serve_run"),
    # studies
    "sample": ("genelang.study.sample", "sample_genomes"),
    "ablate": ("genelang.study.ablate", "ablate"),
    "compare": ("genelang.study.compare", "compare"),
    # extending
    "register_op": ("genelang.compiler.registry", "register_op"),
    "register_space": ("genelang.compiler.registry", "register_space"),
    "register_task": ("genelang.runtime.tasks", "register_task"),
    "register_estimator": ("genelang.evolve.estimators", "register_estimator"),
    "register_strategy": ("genelang.evolve.strategies", "register_strategy"),
    "load_plugins": ("genelang.plugins", "load_plugins"),
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'genelang' has no attribute {name!r}")
    module, attr = _API[name]
    value = importlib.import_module(module)
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
