"""The compiler: text → AST → checked genome → PyTorch modules and exports.

The language half imports no torch:
    parse_text, parse_file      text → GeneFile (syntax only)
    check_file, check_genome    → every Diagnostic
    load_text, load_file        parse + check; raise CheckError with every problem
    format_file                 GeneFile → text (the parser's inverse)
"""
from genelang.compiler import builtins as _builtins  # noqa: F401  (registers the built-in spaces)
from genelang.compiler.ast import Gene, GeneFile, Genome
from genelang.compiler.check import check_file, check_genome, load_file, load_text
from genelang.compiler.parser import parse_file, parse_text
from genelang.compiler.printer import format_file, format_genome

__all__ = ["Gene", "GeneFile", "Genome", "check_file", "check_genome", "load_file",
           "load_text", "parse_file", "parse_text", "format_file", "format_genome"]
