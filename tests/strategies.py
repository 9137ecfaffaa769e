"""Hypothesis strategies for trees and genomes of the built-in spaces."""
from __future__ import annotations

from hypothesis import strategies as st

from genelang.compiler import karva
from genelang.compiler.ast import Gene, GeneFile, Genome
from genelang.compiler.check import functions, terminals
from genelang.compiler.registry import ADF, MAIN, arity_fn, get_space

COMMENT = st.text(alphabet="abcdefghij klmnop-_(),.:!?0123456789", max_size=20).map(
    lambda s: ("# " + s).rstrip())
NAMES = st.sampled_from(["a", "b", "n", "node", "q", "z_1", "adf"])


@st.composite
def trees(draw, funcs=("add", "sep3x3", "cat", "pw"), terms=("h1", "h2", "a1"),
          arity=arity_fn("conv"), depth=4):
    if depth == 0 or draw(st.booleans()):
        return karva.Node(draw(st.sampled_from(terms)))
    f = draw(st.sampled_from(funcs))
    return karva.Node(f, tuple(draw(trees(funcs, terms, arity, depth - 1)) for _ in range(arity(f))))


@st.composite
def gene_symbols(draw, genome: Genome, gene: Gene, max_head: int = 5):
    space = get_space(genome.space)
    role = ADF if gene.kind == "adf" else MAIN
    funcs, terms = functions(genome, gene), terminals(genome, gene)
    h = draw(st.integers(1, max_head))
    t = karva.tail_length(h, space.max_arity(role)) + draw(st.sampled_from([0, 0, 0, 1]))
    head = draw(st.lists(st.sampled_from(funcs + terms), min_size=h, max_size=h))
    tail = draw(st.lists(st.sampled_from(terms), min_size=t, max_size=t))
    return tuple(head), tuple(tail)


@st.composite
def genomes(draw, space: str | None = None):
    """A genome whose every symbol is valid for its gene (not necessarily a
    reducing reduction cell), with comments, blank lines and both forms."""
    space = space or draw(st.sampled_from(["conv", "rnn"]))
    n_adf = draw(st.integers(0 if space == "rnn" else 1, 3))
    adf_names = [f"a{i + 1}" for i in range(n_adf)]
    mains = ["normal", "reduction"] if space == "conv" else draw(
        st.sampled_from([["h"], ["h", "c"], ["c", "h"]]))
    kind = "cell" if space == "conv" else "state"
    skeleton = [Gene("adf", n, (), ()) for n in adf_names] + [Gene(kind, n, (), ()) for n in mains]
    genome = Genome(draw(NAMES), space, tuple(skeleton))
    genes = []
    arity = arity_fn(space)
    for i, gene in enumerate(skeleton):
        head, tail = draw(gene_symbols(genome, gene))
        if space == "rnn" and gene.kind == "state":
            # no S[t] reads: keeps states acyclic without a topological draw
            ok = [s for s in terminals(genome, gene) if not s.endswith("[t]")]
            head = tuple(s if not s.endswith("[t]") else ok[0] for s in head)
            tail = tuple(s if not s.endswith("[t]") else ok[0] for s in tail)
        form = "karva"
        if draw(st.booleans()):
            n_max = get_space(space).max_arity(ADF)
            head, tail = karva.encode(karva.decode(head + tail, arity), arity, n_max)
            form = "tree"
        genes.append(Gene(gene.kind, gene.name, head, tail, form,
                          comment=draw(st.none() | COMMENT),
                          leading=tuple(draw(st.lists(COMMENT, max_size=2))),
                          blank_before=i > 0 and draw(st.booleans())))
    return Genome(genome.name, space, tuple(genes),
                  leading=tuple(draw(st.lists(COMMENT, max_size=2))),
                  closing=tuple(draw(st.lists(COMMENT, max_size=1))),
                  comment=draw(st.none() | COMMENT), end_comment=draw(st.none() | COMMENT))


@st.composite
def gene_files(draw):
    gs = draw(st.lists(genomes(), min_size=1, max_size=3, unique_by=lambda g: g.name))
    return GeneFile(tuple(gs), tuple(draw(st.lists(COMMENT, max_size=2))))
