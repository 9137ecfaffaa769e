"""The default CPU training path (channels_last with runtime/batchnorm.py's
BatchNorm) computes what the default layout computes: BatchNorm alone against
float64, every operation of the conv, nb201 and chain spaces as a block, and
whole networks, on inputs of odd sizes and at stride 2."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from genelang.compiler import load_text
from genelang.compiler.registry import get_op, get_space
from genelang.runtime import channels_last
from genelang.runtime.batchnorm import AccurateBatchNorm2d, accurate_batchnorm, plain_batchnorm
from genelang.runtime.networks import build_network

CL = torch.channels_last


def rel(a: torch.Tensor, ref: torch.Tensor) -> float:
    return ((a.double() - ref).norm() / ref.norm().clamp_min(1e-12)).item()


def bn_pass(bn: nn.BatchNorm2d, x: torch.Tensor, gy: torch.Tensor) -> list[torch.Tensor]:
    bn.zero_grad()
    x = x.detach().requires_grad_()
    y = bn(x)
    y.backward(gy)
    return [y, x.grad] + ([bn.weight.grad, bn.bias.grad] if bn.affine else []) + \
        ([bn.running_mean, bn.running_var] if bn.track_running_stats else [])


def bn_errors(make, shape, fmt, seed=0) -> list[float]:
    """Errors of a float32 BatchNorm made by `make` (its input in `fmt`)
    against torch's own in float64 on post-ReLU-like data (positive mean: the
    case where channels_last's native kernel loses precision)."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * 2 + 3).relu()
    gy = torch.randn(shape, generator=g, dtype=torch.float64)
    ref = nn.BatchNorm2d(shape[1]).double()
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5, generator=g)
        ref.bias.normal_(generator=g)
    ours = make(shape[1])
    ours.load_state_dict({k: v.to(ours.running_mean.dtype if v.is_floating_point() else v.dtype)
                          for k, v in ref.state_dict().items()})
    out = bn_pass(ours, x.float().contiguous(memory_format=fmt), gy.float().contiguous(memory_format=fmt))
    return [rel(o, r) for o, r in zip(out, bn_pass(ref, x, gy))]


def test_batchnorm_in_channels_last_is_as_accurate_as_the_default_layout():
    shape = (32, 4, 32, 32)     # 32,768 values per channel
    native_cl = bn_errors(nn.BatchNorm2d, shape, CL)
    default = bn_errors(nn.BatchNorm2d, shape, torch.contiguous_format)
    ours = bn_errors(AccurateBatchNorm2d, shape, CL)
    # output, input grad, weight grad, bias grad, running mean, running var
    assert max(ours) < 1e-6 and max(default) < 1e-6, (ours, default)
    assert max(native_cl) > 3e-6, native_cl      # what it fixes: torch's channels_last kernel is not
    assert all(o < 5 * d + 1e-7 for o, d in zip(ours, default)), (ours, default)


@pytest.mark.parametrize("shape", [(3, 5, 7, 9), (2, 3, 1, 1), (1, 6, 5, 4)])
def test_batchnorm_on_odd_shapes(shape):
    # two values per channel (2×3×1×1) are ill-conditioned: judged against the default layout
    ours, default = bn_errors(AccurateBatchNorm2d, shape, CL), bn_errors(nn.BatchNorm2d, shape, torch.contiguous_format)
    assert all(o < 5 * d + 1e-6 for o, d in zip(ours, default)), (ours, default)


def test_batchnorm_without_affine_and_with_a_cumulative_average():
    x = torch.randn(4, 5, 6, 7).contiguous(memory_format=CL)
    for kw in ({"affine": False}, {"momentum": None}):
        ref, ours = nn.BatchNorm2d(5, **kw), AccurateBatchNorm2d(5, **kw)
        for _ in range(3):
            xr, xo = x.clone().requires_grad_(), x.clone().requires_grad_()
            ref(xr).square().sum().backward()
            ours(xo).square().sum().backward()
            assert torch.allclose(xo.grad, xr.grad, atol=1e-5)
        assert torch.allclose(ours.running_mean, ref.running_mean, atol=1e-6)
        assert torch.allclose(ours.running_var, ref.running_var, atol=1e-6)
        assert int(ours.num_batches_tracked) == 3


def test_batchnorm_leaves_eval_mode_and_the_default_layout_to_torch(monkeypatch):
    from genelang.runtime import batchnorm
    calls = []
    monkeypatch.setattr(batchnorm._ChannelsLastBatchNorm, "apply",
                        lambda *a: calls.append(a) or (_ for _ in ()).throw(AssertionError("used")))
    bn = AccurateBatchNorm2d(4)
    bn(torch.randn(2, 4, 3, 3))                                # default layout
    bn.eval()(torch.randn(2, 4, 3, 3).contiguous(memory_format=CL))
    assert not calls


def test_switching_batchnorm_keeps_the_state_and_switches_back():
    net = build_network(GENOME, "nasgep", C=4, N=1, in_channels=1)
    keys = list(net.state_dict())
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    accurate_batchnorm(net)
    assert all(type(m) is AccurateBatchNorm2d for m in bns) and list(net.state_dict()) == keys
    plain_batchnorm(net)
    assert all(type(m) is nn.BatchNorm2d for m in bns)
    torch.jit.script(net)     # what is saved and exported is torch's own


def test_the_channels_last_path_switches_strided_pointwise_convs_and_back():
    net = build_network(GENOME, "nasgep", C=4, N=1, in_channels=1)     # FactorizedReduce: 1x1 convs at stride 2
    keys = list(net.state_dict())
    strided = [m for m in net.modules() if type(m) is nn.Conv2d and m.kernel_size == (1, 1) and m.stride == (2, 2)]
    assert strided
    channels_last.enter(net)
    assert all(type(m) is channels_last.SubsampledPointwiseConv2d for m in strided)
    assert all(type(m) is not nn.BatchNorm2d for m in net.modules()) and list(net.state_dict()) == keys
    channels_last.leave(net)
    assert all(type(m) is nn.Conv2d for m in strided)
    assert not any(isinstance(m, (AccurateBatchNorm2d, channels_last.SubsampledPointwiseConv2d))
                   for m in net.modules())
    torch.jit.script(net)


@pytest.mark.parametrize("stride,groups,shape", [(2, 1, (3, 4, 11, 9)), ((2, 1), 2, (5, 6, 8, 7)),
                                                  (3, 1, (1, 2, 10, 10))])
def test_a_strided_pointwise_conv_of_the_subsampled_input_is_the_same_function(stride, groups, shape):
    torch.manual_seed(0)
    conv = nn.Conv2d(shape[1], 4, 1, stride, groups=groups, bias=True).double()
    fast = channels_last.enter(copy.deepcopy(conv))
    assert type(fast) is channels_last.SubsampledPointwiseConv2d
    x = torch.randn(shape, dtype=torch.float64)
    for a, b in zip(grads_of(fast, x.contiguous(memory_format=CL)), grads_of(conv, x)):
        assert a.shape == b.shape and torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_odd_batches_train_in_channels_last_on_two_threads_without_corrupting_the_heap():
    """oneDNN's weight gradient of a strided 1x1 conv in channels_last writes
    past its buffers with >1 thread and an odd batch (docs/channels_last.md,
    defect 3): the aborts of a 5-image last batch. In a fresh interpreter, so
    a crash fails this test instead of killing the worker."""
    import subprocess
    import sys
    code = """
import torch
from genelang.compiler import load_file
from genelang.runtime import channels_last
from genelang.runtime.networks import build_network
torch.set_num_threads(2)
torch.manual_seed(0)
genome = load_file("examples/genotypes/nasgep_demo.gene").genomes[0]
for batch in (3, 5, 15):
    net = channels_last.enter(build_network(genome, "nasgep", C=4, N=1, in_channels=3).train())
    for _ in range(3):
        net(torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
print("trained")
"""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "trained" in done.stdout, done.stderr[-2000:]


GENOME = load_text("""
genome g on conv {
    adf a1 = add sep3x3 dw5x5 | h1 h2 h1 h2
    adf a2 = isep3x5 | h1 h2
    adf a3 = add max_pool_3x3 a1 | h2 h1 h1 h2
    cell normal = cat a1 add | a2 a3 a1 a2
    cell reduction = add a2 | a3 a1 a2
}""").genomes[0]


def grads_of(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The output, and the gradients of a fixed linear function of it to the
    input and to all parameters (concatenated: a parameter whose gradient is
    nearly zero by cancellation would otherwise dominate with its relative error)."""
    net.zero_grad()
    x = x.detach().requires_grad_()
    out = net(x)
    w = torch.linspace(-1, 1, out[0].numel(), dtype=out.dtype).view(out.shape[1:])
    (out * w).sum().backward()
    params = [(p.grad if p.grad is not None else torch.zeros_like(p)).flatten() for p in net.parameters()]
    return [out, x.grad] + ([torch.cat(params)] if params else [])


def layout_errors(net: nn.Module, x: torch.Tensor) -> tuple[float, float]:
    """(default-path error, reference-layout error): the worst relative error
    over output and gradients of float32 channels_last with accurate BatchNorm,
    and of float32 in the default layout, against float64 in the default layout."""
    ref = grads_of(copy.deepcopy(net).double(), x.double())
    ours = channels_last.enter(copy.deepcopy(net))
    fast = grads_of(ours, x.contiguous(memory_format=CL))
    default = grads_of(copy.deepcopy(net), x)
    worst = lambda got: max([rel(g, r) for g, r in zip(got, ref) if r.norm() > 0], default=0.0)   # noqa: E731
    return worst(fast), worst(default)


def blocks():
    """(name, block) for every single-input operation of the conv, nb201 and
    chain spaces, at stride 1 and 2 where the operation takes a stride (a
    chain block at stride 2 doubles the channels, as a stage's first layer)."""
    torch.manual_seed(0)   # the same weights whatever ran before collection: a check, not a lottery
    from genelang.runtime.chain.family import family
    C = 8
    for name, op in get_space("conv").ops.items():
        if op.arity == 1 and get_op("conv", name).builder is not None:
            for stride in (1, 2):
                yield f"conv:{name}/{stride}", get_op("conv", name).builder(C, stride, True)
    for name, op in get_space("nb201").ops.items():
        if op.arity == 1:
            yield f"nb201:{name}", get_op("nb201", name).builder(C)
    for space in ("proxyless", "fbnet", "spos"):
        for name, op in get_space(space).ops.items():
            if op.arity == 1:
                for stride in (1, 2):
                    yield f"{space}:{name}/{stride}", family(space).block(name, C, C * stride, stride)


BLOCKS = list(blocks())


@pytest.mark.parametrize("name,block", BLOCKS, ids=[n for n, _ in BLOCKS])
def test_every_operation_trains_in_the_default_path_as_in_the_default_layout(name, block):
    torch.manual_seed(0)
    # odd sizes (stride 2 pads unevenly), but DARTS's FactorizedReduce needs even ones
    x = torch.randn(4, 8, 12, 10) if name == "conv:skip_connect/2" else torch.randn(4, 8, 11, 9)
    fast, default = layout_errors(block.train(), x)
    # fp32 rounding, amplified by BatchNorm over few values per channel (1e-6 to 1e-5 either way)
    assert fast < 1e-4 and fast < 20 * default + 1e-5, (name, fast, default)


def test_whole_networks_train_in_the_default_path_as_in_the_default_layout():
    """Whole networks with BatchNorm in training mode are chaotic (a 1e-6
    change of the input moves gradients by up to 1e-2, docs/channels_last.md):
    the default path must be as close to float64 as the default layout is."""
    torch.manual_seed(0)
    net = build_network(GENOME, "nasgep", C=4, N=1, in_channels=1).train()
    fast, default = layout_errors(net, torch.randn(8, 1, 16, 16))
    assert fast < 1e-5 and fast < 10 * default + 1e-6, (fast, default)
    net.eval()     # BatchNorm on its running statistics: not chaotic
    fast, default = layout_errors(net, torch.randn(8, 1, 16, 16))
    assert fast < 1e-5, (fast, default)
