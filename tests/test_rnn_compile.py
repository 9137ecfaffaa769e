"""lstm.gene and gru.gene compute exactly torch's LSTMCell and GRUCell."""
import math
from pathlib import Path

import pytest
import torch

from genelang.compiler import load_file, load_text
from genelang.compiler.dag import expression
from genelang.compiler.lower_rnn import RecurrentLayer, lower_rnn_cell
from genelang.compiler.registry import get_space
from genelang.runtime.sequence import build_sequence_model

torch.set_num_threads(1)
EX = Path(__file__).parents[1] / "examples" / "genotypes"
I, H = 5, 7


def gate_linears(genome, state: str, path_to_add):
    """The (x-linear, h-linear) module names under the `add` reached by `path_to_add`."""
    node = expression(genome, genome.gene(state))
    for i in path_to_add:
        node = node.children[i]
    assert node.symbol == "add"
    lx, lh = node.children
    assert lx.children[0].symbol == "x" and lh.children[0].symbol == "h[t-1]"
    return f"{state}_{lx.index}_linear", f"{state}_{lh.index}_linear"


def load_gate(cell, names, w_ih, w_hh, b_ih, b_hh, k):
    mods = dict(cell.step.named_children())
    lx, lh = (mods[n] for n in names)
    with torch.no_grad():
        lx.weight.copy_(w_ih[k * H:(k + 1) * H]); lx.bias.copy_(b_ih[k * H:(k + 1) * H])
        lh.weight.copy_(w_hh[k * H:(k + 1) * H]); lh.bias.copy_(b_hh[k * H:(k + 1) * H])


def test_lstm_gene_is_torch_lstm_cell():
    torch.manual_seed(0)
    g = load_file(EX / "lstm.gene").genomes[0]
    ref = torch.nn.LSTMCell(I, H)
    cell = lower_rnn_cell(g, I, H)
    p = [ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh]
    # torch's gate order: i, f, g, o.  c = f·c + i·g ; h = o·tanh(c)
    load_gate(cell, gate_linears(g, "c", [0, 0, 0]), *p, 1)      # f
    load_gate(cell, gate_linears(g, "c", [1, 0, 0]), *p, 0)      # i
    load_gate(cell, gate_linears(g, "c", [1, 1, 0]), *p, 2)      # g
    load_gate(cell, gate_linears(g, "h", [0, 0]), *p, 3)         # o
    assert sum(q.numel() for q in cell.parameters()) == sum(q.numel() for q in ref.parameters())
    h, c = torch.randn(3, H), torch.randn(3, H)
    hr, cr = h, c
    for _ in range(4):   # several steps through the recurrence
        x = torch.randn(3, I)
        h, c = cell(x, [h, c])
        hr, cr = ref(x, (hr, cr))
    torch.testing.assert_close(h, hr, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(c, cr, atol=1e-5, rtol=1e-5)


def test_gru_gene_is_torch_gru_cell():
    torch.manual_seed(1)
    g = load_file(EX / "gru.gene").genomes[0]
    ref = torch.nn.GRUCell(I, H)
    cell = lower_rnn_cell(g, I, H)
    mods = dict(cell.step.named_children())
    root = expression(g, g.gene("h"))           # blend(h, tanh(add(lin x, mul(r, lin h))), z)
    n_add = root.children[1].children[0]
    r_sig = n_add.children[1].children[0]
    z_sig = root.children[2]
    # torch's gate order: r, z, n
    load_gate(cell, gate_linears(g, "h", [1, 0, 1, 0, 0]), ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh, 0)
    load_gate(cell, gate_linears(g, "h", [2, 0]), ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh, 1)
    lx = mods[f"h_{n_add.children[0].index}_linear"]
    lh = mods[f"h_{n_add.children[1].children[1].index}_linear"]
    with torch.no_grad():
        lx.weight.copy_(ref.weight_ih[2 * H:]); lx.bias.copy_(ref.bias_ih[2 * H:])
        lh.weight.copy_(ref.weight_hh[2 * H:]); lh.bias.copy_(ref.bias_hh[2 * H:])
    assert r_sig.symbol == z_sig.symbol == "sigmoid"
    assert sum(q.numel() for q in cell.parameters()) == sum(q.numel() for q in ref.parameters())
    layer = RecurrentLayer(cell)
    xs = torch.randn(2, 6, I)
    out = layer(xs)
    h = torch.zeros(2, H)
    for t in range(6):
        h = ref(xs[:, t], h)
        torch.testing.assert_close(out[:, t], h, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("op", sorted(get_space("rnn").ops))
def test_every_rnn_op_builds_and_runs(op):
    arity = get_space("rnn").ops[op].arity
    args = ", ".join(["x", "h[t-1]", "x"][:arity])
    g = load_text(f"genome g on rnn {{\n state h = {op}({args})\n}}\n").genomes[0]
    cell = lower_rnn_cell(g, 3, 4)
    (h,) = cell(torch.randn(2, 3), [torch.randn(2, 4)])
    assert h.shape == (2, 4) and torch.isfinite(h).all()


def test_adf_used_twice_is_computed_once_per_step():
    g = load_text("""genome g on rnn {
        adf a = tanh(linear(x))
        state h = add(mul(a, h[t-1]), a)
    }""").genomes[0]
    cell = lower_rnn_cell(g, 3, 4)
    calls = [n.target for n in cell.step.graph.nodes if n.op == "call_module"]
    assert calls.count("a_1_linear") == 1


def test_script_and_bidirectional_layers():
    g = load_file(EX / "lstm.gene").genomes[0]
    layer = RecurrentLayer(lower_rnn_cell(g, I, H), lower_rnn_cell(g, I, H))
    scripted = torch.jit.script(layer)
    x = torch.randn(2, 5, I)
    torch.testing.assert_close(scripted(x), layer(x))
    assert layer(x).shape == (2, 5, 2 * H)


def test_enas_cell_runs_and_matches_darts_shape():
    g = load_file(EX / "enas_ptb.gene").genomes[0]
    cell = lower_rnn_cell(g, 8, 8)
    (h,) = cell(torch.randn(2, 8), [torch.zeros(2, 8)])
    assert h.shape == (2, 8)
    # DARTS's cell: W0 (2d×2d) and 11 node matrices (d×2d); genelang adds biases
    weights = sum(p.numel() for n, p in cell.named_parameters() if n.endswith("weight"))
    assert weights == (2 * 8) * (2 * 8) + 11 * 8 * (2 * 8)


@pytest.mark.parametrize("head", ["classify", "tag", "lm", "forecast"])
def test_sequence_heads(head):
    g = load_file(EX / "gru.gene").genomes[0]
    if head == "forecast":
        m = build_sequence_model(g, head=head, input_size=3, hidden=6, num_outputs=2)
        assert m(torch.randn(4, 9, 3)).shape == (4, 2)
        return
    m = build_sequence_model(g, head=head, vocab_size=20, embed_dim=6, hidden=6, num_outputs=5,
                             layers=2, bidirectional=head == "tag", tie_weights=head == "lm", dropout=0.1)
    x = torch.randint(0, 20, (4, 9))
    out = m(x, torch.tensor([9, 3, 5, 1])) if head == "classify" else m(x)
    expected = {"classify": (4, 5), "tag": (4, 9, 5), "lm": (4, 9, 20)}[head]
    assert out.shape == expected
    if head == "lm":
        assert m.out.weight is m.embed.weight


def test_lm_starts_near_uniform_prediction():
    # A tied N(0, 1) embedding with a cell that passes its input through
    # (h = layer_norm(x)) gave a first loss above 20; the lm starts small instead.
    torch.manual_seed(0)
    g = load_text("genome ln on rnn { state h = layer_norm(x) }").genomes[0]
    V = 1000
    model = build_sequence_model(g, head="lm", vocab_size=V, embed_dim=32, hidden=32, tie_weights=True)
    assert model.out.weight is model.embed.weight
    assert model.embed.weight.abs().max() <= 0.1 and not model.out.bias.any()
    x, y = torch.randint(V, (4, 35)), torch.randint(V, (4, 35))
    loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    assert loss < math.log(V) + 1
