"""genelang: a genotype language and toolchain for NAS by gene expression programming."""

__version__ = "0.1.0"
