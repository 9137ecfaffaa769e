"""The compiler: text → AST → checked genome → PyTorch modules and exports.

Public entry points (all pure functions; none imports torch):
    parse_text, parse_file      text → GeneFile (syntax only)
    check_file, check_genome    → list of Diagnostics
    load_text, load_file        parse + check; raise CheckError with every problem
    format_file                 GeneFile → text
"""
