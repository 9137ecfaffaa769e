"""Text → AST with lark (LALR). Comments and blank lines are attached to the
genes and genomes they stand next to, so the printer can give them back."""
from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, v_args

from genelang.compiler import karva
from genelang.compiler.ast import Gene, GeneFile, Genome, Pos
from genelang.compiler.registry import ADF, MAIN, arity_fn, get_space, spaces
from genelang.errors import Diagnostic, GenelangError, Location, ParseError

KEYWORDS = {"genome", "on", "adf", "cell", "state"}
_GRAMMAR = files("genelang").joinpath("grammar.lark").read_text()
_comments: list[Token] = []
_PARSER = Lark(_GRAMMAR, parser="lalr", propagate_positions=True,
               lexer_callbacks={"COMMENT": _comments.append})


def _pos(tok: Token) -> Pos:
    return Pos(tok.line, tok.column, tok.end_column)


@dataclass
class _Call:
    sym: Token
    args: list["_Call"]


@dataclass
class _RawGene:
    kind: Token
    name: Token
    body: list[Token] | _Call      # Karva symbols, or a nested call
    bar_after: int                  # Karva: how many symbols are in the head
    end_line: int


@dataclass
class _RawGenome:
    name: Token
    space: Token
    genes: list[_RawGene]
    end_line: int                   # line of the closing brace


class _ToRaw(Transformer):
    @v_args(inline=True)
    def symbol(self, tok):
        return tok

    @v_args(meta=True)
    def karva(self, meta, children):
        return children

    @v_args(inline=True)
    def call(self, sym, *args):
        return _Call(sym, list(args))

    @v_args(meta=True)
    def gene(self, meta, children):
        kind, name, body = children
        return _RawGene(kind, name, body, 0, meta.end_line)

    @v_args(meta=True)
    def genome(self, meta, children):
        name, space, *genes = children
        return _RawGenome(name, space, genes, meta.end_line)

    def start(self, genomes):
        return genomes


_TOKEN_NAMES = {
    "NAME": "a name", "KIND": "'adf', 'cell' or 'state'", "LBRACE": "'{'", "RBRACE": "'}'",
    "VBAR": "'|'", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "EQUAL": "'='",
    "GENOME": "'genome'", "ON": "'on'", "$END": "end of file",
}


def _error_from_lark(err: UnexpectedInput, text: str, path: str) -> ParseError:
    lines = text.splitlines()
    line, col = getattr(err, "line", 0) or 0, getattr(err, "column", 0) or 0
    if isinstance(err, UnexpectedEOF) or line <= 0:
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
        msg = "unexpected end of file" if at_end else f"unexpected {str(tok)!r}"
        expected = sorted({_TOKEN_NAMES.get(e, e.lower()) for e in (err.expected or [])}
                          if hasattr(err, "expected") and err.expected else set())
        if expected:
            hint = "expected " + ", ".join(expected)
        if not at_end:
            width = max(1, len(str(tok)))
            if str(tok) in KEYWORDS:
                hint += f" ('{tok}' is a keyword and cannot name anything)"
    return ParseError(Diagnostic("syntax", msg, Location(path, line, col, col + width, src), hint))


def parse_text(text: str, path: str = "<string>") -> GeneFile:
    """Parse `.gene` text into an AST. Raises ParseError with a location.

    Only syntax is checked here; `genelang.compiler.check` checks meaning.
    """
    _comments.clear()
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as err:
        raise _error_from_lark(err, text, path) from None
    comments = sorted((c.line, str(c).rstrip()) for c in _comments)
    raw = _ToRaw().transform(tree)
    return _Builder(text, path, comments).build(raw)


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
            header = self._trailing(r.name.line)
            genes = tuple(self._gene(str(r.space), g, first=(i == 0)) for i, g in enumerate(r.genes))
            closing = self._leading(r.end_line)
            end = self._trailing(r.end_line)
            genomes.append(Genome(str(r.name), str(r.space), genes, leading, closing,
                                  header, end, _pos(r.name)))
        trailing = tuple(c for _, c in self.comments[self.next:])
        return GeneFile(tuple(genomes), trailing, self.path, self.text, tuple(self.tree_problems))

    def _gene(self, space: str, g: _RawGene, first: bool) -> Gene:
        blank = (not first) and self._blank_before(g.kind.line)
        leading = self._leading(g.kind.line)
        comment = self._trailing(g.end_line)
        if isinstance(g.body, list):
            head, tail = self._split(g.body)
            return Gene(str(g.kind), str(g.name), tuple(map(str, head)), tuple(map(str, tail)),
                        "karva", comment, leading, blank, _pos(g.name),
                        tuple(_pos(t) for t in g.body))
        head, tail, positions = self._encode_call(space, str(g.kind), g.body)
        return Gene(str(g.kind), str(g.name), head, tail, "tree", comment, leading, blank,
                    _pos(g.name), positions)

    def _split(self, syms: list[Token]) -> tuple[list[Token], list[Token]]:
        """The grammar drops the anonymous '|'; find it between two symbols."""
        for i in range(len(syms) - 1):
            a, b = syms[i], syms[i + 1]
            if a.end_line == b.line:
                between = self.lines[a.line - 1][a.end_column - 1: b.column - 1]
            else:
                between = self.lines[a.end_line - 1][a.end_column - 1:].split("#", 1)[0]
                between += "".join(ln.split("#", 1)[0] for ln in self.lines[a.end_line: b.line])
            if "|" in between:
                return syms[: i + 1], syms[i + 1:]
        raise AssertionError("karva gene without '|'")  # the grammar requires one

    def _encode_call(self, space: str, kind: str, call: _Call):
        """Encode a nested call to Karva. Arities are the written ones; where they
        disagree with the registry, a diagnostic is kept for the checker."""
        positions: dict[int, Pos] = {}
        written: dict[str, int] = {}

        def to_node(c: _Call) -> karva.Node:
            positions[id(c)] = _pos(c.sym)
            written.setdefault(str(c.sym), len(c.args))
            if written[str(c.sym)] != len(c.args) or self._arity(space, str(c.sym)) not in (None, len(c.args)):
                self._arity_problem(space, c)
            return karva.Node(str(c.sym), tuple(to_node(a) for a in c.args), id(c))

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
        want = self._arity(space, str(c.sym))
        got = len(c.args)
        src = self.lines[c.sym.line - 1]
        loc = Location(self.path, c.sym.line, c.sym.column, c.sym.end_column, src)
        if want == 0:
            msg = f"{str(c.sym)!r} is not a function but is called with {got} argument(s)"
        else:
            msg = f"{str(c.sym)!r} takes {want} argument(s), called with {got}"
        self.tree_problems.append(Diagnostic("arity", msg, loc))
