"""Text → AST with lark (LALR). Comments and blank lines are attached to the
genes and genomes they stand next to, so the printer can give them back."""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from genelang.compiler import karva
from genelang.compiler.ast import Gene, GeneFile, Genome, Pos
from genelang.compiler.registry import ADF, MAIN, get_space, spaces
from genelang.errors import Diagnostic, GenelangError, Location, ParseError

KEYWORDS = {"genome", "on", "adf", "cell", "state"}
_GRAMMAR = files("genelang").joinpath("grammar.lark").read_text()
# No other token can hold '#' (the grammar has no strings), so every '#' in a
# file that parses starts a comment running to the end of its line: comments
# are found in the text itself, with no state shared between parses.
_COMMENT = re.compile(r"#[^\n]*")


def _pos(tok: Token) -> Pos:
    return Pos(tok.line, tok.column, tok.end_column)


@dataclass
class _Call:
    sym: str
    pos: Pos
    args: list["_Call"]
    end_line: int


@dataclass
class _Karva:
    head: list[str]
    tail: list[str]
    pos: list[Pos]


@dataclass
class _RawGene:
    kind: Token
    name: Token
    body: _Karva | _Call
    end_line: int


@dataclass
class _RawGenome:
    name: Token
    space: Token
    genes: list[_RawGene]
    end_line: int                   # line of the closing brace


def _split_run(tok: Token) -> tuple[list[str], list[Pos]]:
    """The symbols of a SYMBOLS token with their positions."""
    line, col = tok.line, tok.column
    found = [(m.group(), Pos(line, col + m.start(), col + m.end())) for m in _WORD.finditer(tok.value)]
    return [f[0] for f in found], [f[1] for f in found]


_WORD = re.compile(r"\S+")


class _ToRaw(Transformer):
    """Runs inside the LALR parser (no tree is built); closing tokens are kept
    in the grammar only to know where a gene or genome ends."""

    def karva(self, children):
        head, bar, tail = children
        h, hp = _split_run(head)
        t, tp = _split_run(tail)
        return _Karva(h, t, hp + tp)

    def leaf(self, children):
        (tok,) = children
        syms, pos = _split_run(tok)
        if len(syms) > 1:
            raise _MissingBar(tok)
        return _Call(syms[0], pos[0], [], tok.line)

    def call(self, children):
        sym, *args, rpar = children
        args = [a if isinstance(a, _Call) else _Call(a.value, _pos(a), [], a.line) for a in args]
        return _Call(sym.value, _pos(sym), args, rpar.line)

    def gene(self, children):
        kind, name, body = children
        end = body.end_line if isinstance(body, _Call) else body.pos[-1].line
        return _RawGene(kind, name, body, end)

    def genome(self, children):
        name, space, *genes, rbrace = children
        return _RawGenome(name, space, genes, rbrace.line)

    def start(self, genomes):
        return genomes


class _MissingBar(Exception):
    def __init__(self, tok: Token):
        self.tok = tok




def _make_parser(fast: bool) -> Lark:
    """The transformer runs inside the LALR parser: no parse tree is built at
    all. With lark-cython installed (the `fast` extra) lexing and parsing run
    compiled, about 3× faster; the results are identical."""
    plugins = {}
    if fast:
        try:
            import lark_cython
            plugins = lark_cython.plugins
        except ImportError:
            pass
    return Lark(_GRAMMAR, parser="lalr", transformer=_ToRaw(), _plugins=plugins)


_PARSER = _make_parser(fast=True)

_TOKEN_NAMES = {
    "NAME": "a name", "KIND": "'adf', 'cell' or 'state'", "LBRACE": "'{'", "RBRACE": "'}'",
    "BAR": "'|'", "SYMBOLS": "symbols", "CALLEE": "a call", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "EQUAL": "'='",
    "GENOME": "'genome'", "ON": "'on'", "$END": "end of file",
}


def _error_from_lark(err: UnexpectedInput, text: str, path: str) -> ParseError:
    lines = text.splitlines()
    line, col = getattr(err, "line", 0) or 0, getattr(err, "column", 0) or 0
    tok = getattr(err, "token", None)
    if isinstance(err, UnexpectedEOF) or line <= 0 or (tok is not None and tok.type == "$END"):
        line = max(1, len(lines))
        col = len(lines[-1]) + 1 if lines else 1
    src = lines[line - 1] if 0 < line <= len(lines) else ""
    width, hint = 1, ""
    if isinstance(err, UnexpectedCharacters):
        msg = f"unexpected character {src[col - 1: col] or '?'!r}"
        hint = ("symbols are letters, digits and '_' (rnn states as h[t] or h[t-1]); "
                "comments start with '#'")
    else:
        tok = getattr(err, "token", None)
        at_end = tok is None or tok.type == "$END"
        msg = "unexpected end of file" if at_end else f"unexpected {tok.value!r}"
        expected = sorted({_TOKEN_NAMES.get(e, e.lower()) for e in (err.expected or [])}
                          if hasattr(err, "expected") and err.expected else set())
        if expected:
            hint = "expected " + ", ".join(expected)
        if at_end and "RBRACE" in (getattr(err, "expected", None) or ()):
            hint = "a genome is not closed: add '}'"
        if not at_end:
            width = max(1, len(tok.value))
            if tok.value in KEYWORDS:
                hint += f" ('{tok}' is a keyword and cannot name anything)"
    return ParseError(Diagnostic("syntax", msg, Location(path, line, col, col + width, src), hint))


def parse_text(text: str, path: str = "<string>") -> GeneFile:
    """Parse `.gene` text into an AST. Raises ParseError with a location.

    Only syntax is checked here; `genelang.compiler.check` checks meaning.
    """
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as err:
        raise _error_from_lark(err, text, path) from None
    except _MissingBar as mb:
        tok = mb.tok
        src = text.splitlines()[tok.line - 1]
        raise ParseError(Diagnostic(
            "syntax", "several symbols but no '|'", Location(path, tok.line, tok.column, tok.end_column, src),
            "write Karva as 'head | tail' (or one nested call such as add(h1, h2))")) from None
    return _Builder(text, path, _comments(text)).build(tree)


def _comments(text: str) -> list[tuple[int, str]]:
    """(line, comment) in file order; lines count '\n' as lark's lexer does."""
    if "#" not in text:
        return []
    found, line, at = [], 1, 0
    for m in _COMMENT.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        found.append((line, m.group().rstrip()))
    return found


def parse_file(path: str | Path) -> GeneFile:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GenelangError.at("io", "no such file", str(p)) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError, OSError) as err:
        raise GenelangError.at("io", f"cannot read file ({err.__class__.__name__})", str(p)) from None
    return parse_text(text, str(p))


class _Builder:
    """Turns raw parse results into AST nodes, placing comments by line number:
    a comment on an item's last line trails it; comment lines above an item lead it."""

    def __init__(self, text: str, path: str, comments: list[tuple[int, str]]):
        self.text, self.path = text, path
        self.lines = text.splitlines()
        self.comments = comments
        self.next = 0
        self.tree_problems: list[Diagnostic] = []

    def _leading(self, before_line: int) -> tuple[str, ...]:
        out = []
        while self.next < len(self.comments) and self.comments[self.next][0] < before_line:
            out.append(self.comments[self.next][1])
            self.next += 1
        return tuple(out)

    def _trailing(self, line: int) -> str | None:
        if self.next < len(self.comments) and self.comments[self.next][0] == line:
            self.next += 1
            return self.comments[self.next - 1][1]
        return None

    def _blank_before(self, line: int) -> bool:
        """Whether a blank line separates the item at `line` (with the comment lines
        directly above it) from what comes before."""
        ln = line - 1
        while ln >= 1 and self.lines[ln - 1].lstrip().startswith("#"):
            ln -= 1
        return ln >= 1 and not self.lines[ln - 1].strip()

    def build(self, raws: list[_RawGenome]) -> GeneFile:
        genomes = []
        for r in raws:
            leading = self._leading(r.name.line)
            # a comment belongs to the last item that ends on its line
            first_gene_line = r.genes[0].kind.line if r.genes else None
            header = self._trailing(r.name.line) if first_gene_line != r.name.line else None
            genes = tuple(self._gene(r.space.value, g, first=(i == 0),
                                     next_line=r.genes[i + 1].kind.line if i + 1 < len(r.genes) else None)
                          for i, g in enumerate(r.genes))
            closing = self._leading(r.end_line)
            end = self._trailing(r.end_line)
            genomes.append(Genome(r.name.value, r.space.value, genes, leading, closing,
                                  header, end, _pos(r.name)))
        trailing = tuple(c for _, c in self.comments[self.next:])
        return GeneFile(tuple(genomes), trailing, self.path, self.text, tuple(self.tree_problems))

    def _gene(self, space: str, g: _RawGene, first: bool, next_line: int | None) -> Gene:
        blank = (not first) and self._blank_before(g.kind.line)
        leading = self._leading(g.kind.line)
        comment = self._trailing(g.end_line) if next_line != g.end_line else None
        if isinstance(g.body, _Karva):
            k = g.body
            return Gene(g.kind.value, g.name.value, tuple(k.head), tuple(k.tail), "karva", comment,
                        leading, blank, _pos(g.name), tuple(k.pos))
        head, tail, positions = self._encode_call(space, g.kind.value, g.body)
        return Gene(g.kind.value, g.name.value, head, tail, "tree", comment, leading, blank,
                    _pos(g.name), positions)

    def _encode_call(self, space: str, kind: str, call: _Call):
        """Encode a nested call to Karva. Arities are the written ones; where they
        disagree with the registry, a diagnostic is kept for the checker."""
        positions: dict[int, Pos] = {}
        written: dict[str, int] = {}

        def to_node(c: _Call) -> karva.Node:
            positions[id(c)] = c.pos
            written.setdefault(c.sym, len(c.args))
            if written[c.sym] != len(c.args) or self._arity(space, c.sym) not in (None, len(c.args)):
                self._arity_problem(space, c)
            return karva.Node(c.sym, tuple(to_node(a) for a in c.args), id(c))

        tree = to_node(call)
        n = 2
        if space in spaces():
            sp = get_space(space)
            n = max(sp.max_arity(ADF), sp.max_arity(MAIN))
        n = max([n, *written.values()])
        head, tail = karva.encode(tree, lambda s: written.get(s, 0), n)
        pos = tuple(positions.get(node.index) for node in tree.walk())
        return head, tail, pos + (None,) * (len(head) + len(tail) - len(pos))

    def _arity(self, space: str, sym: str) -> int | None:
        if space not in spaces():
            return None
        op = get_space(space).ops.get(sym)
        return op.arity if op else None

    def _arity_problem(self, space: str, c: _Call) -> None:
        want = self._arity(space, c.sym)
        got = len(c.args)
        loc = Location(self.path, c.pos.line, c.pos.col, c.pos.end_col, self.lines[c.pos.line - 1])
        if want == 0:
            msg = f"{c.sym!r} is not a function but is called with {got} argument(s)"
        else:
            msg = f"{c.sym!r} takes {want} argument(s), called with {got}"
        self.tree_problems.append(Diagnostic("arity", msg, loc))
