"""Exports of a built model: TorchScript, torch.export, ONNX and standalone
Python source. Each writes atomically and never needs genelang to load."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import fx, nn

from genelang.atomic import atomic_write
from genelang.errors import GenelangError


def to_torchscript(model: nn.Module, out: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch.jit is deprecated upstream but still the portable format
        scripted = torch.jit.script(model)
    atomic_write(out, lambda p: scripted.save(str(p)))


def is_recurrent(model: nn.Module) -> bool:
    """Whether the input's dimension 1 is time (a recurrent network)."""
    from genelang.compiler.lower_rnn import Direction
    return any(isinstance(m, Direction) for m in model.modules())


def to_export(model: nn.Module, example: torch.Tensor, out: Path) -> None:
    """A torch.export program for any batch size (and, recurrent, any number of steps).

    The example must have a batch of at least 2: export treats a size-1
    dimension as a constant."""
    from genelang.runtime.scan import scanned
    dims = {0: torch.export.Dim("batch", min=1)}
    if is_recurrent(model):
        model, dims[1] = scanned(model), torch.export.Dim("steps", min=1)
    ep = torch.export.export(model.eval(), (example,), dynamic_shapes=(dims,))
    atomic_write(out, lambda p: torch.export.save(ep, str(p)))


def to_onnx(model: nn.Module, example: torch.Tensor, out: Path) -> None:
    """ONNX with a dynamic batch (a recurrent network is unrolled over the example's steps)."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise GenelangError.at("onnx", "ONNX export needs the onnx package", str(out),
                               hint="pip install 'genelang[onnx]'") from None
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    atomic_write(out, lambda p: torch.onnx.export(model, (example,), str(p), dynamo=False,
                                             input_names=["input"], output_names=["output"],
                                             dynamic_axes=axes))


# --- standalone Python ---------------------------------------------------------

def _ctor(m: nn.Module) -> str:
    """Source that rebuilds a torch.nn leaf module (its weights come from the state dict)."""
    name = type(m).__name__
    if type(m).__module__.startswith("torch.nn") and hasattr(nn, name):
        if isinstance(m, nn.AvgPool2d):   # its repr omits count_include_pad
            return (f"nn.AvgPool2d({m.kernel_size!r}, stride={m.stride!r}, padding={m.padding!r}, "
                    f"ceil_mode={m.ceil_mode!r}, count_include_pad={m.count_include_pad!r})")
        if isinstance(m, nn.Embedding):
            return f"nn.Embedding({m.num_embeddings}, {m.embedding_dim})"
        text = repr(m)
        if "\n" not in text:
            return "nn." + text
    raise GenelangError.at("python", f"cannot write {name} as standalone source", "to='python'",
                           hint="only torch.nn leaf modules can be emitted")


def _flatten(gm: fx.GraphModule) -> tuple[dict[str, nn.Module], dict[str, torch.Tensor], str, list[str]]:
    """(leaf modules, tensors read outside a module, e.g. input statistics,
    the forward source, its globals), all under flat attribute names."""
    mods: dict[str, nn.Module] = {}
    tensors: dict[str, torch.Tensor] = {}
    for node in gm.graph.nodes:
        if node.op not in ("call_module", "get_attr"):
            continue
        flat = re.sub(r"\W", "_", node.target)
        if flat[0].isdigit():     # a Sequential's child ("0.project"): not an identifier
            flat = f"m_{flat}"
        if node.op == "call_module":
            mods[flat] = gm.get_submodule(node.target)
        else:
            value = gm
            for part in node.target.split("."):
                value = getattr(value, part)
            if not isinstance(value, torch.Tensor):
                raise GenelangError.at("python", f"the network reads {node.target}, not a tensor", "to='python'")
            tensors[flat] = value.detach()
        node.target = flat
    pc = gm.graph.python_code(root_module="self")
    return mods, tensors, pc.src, _globals_source(pc.globals)


def _globals_source(globs: dict) -> list[str]:
    """Definitions for the names fx's generated code refers to (torch, typing, ...)."""
    import types
    lines = []
    for name, obj in sorted(globs.items()):
        if name in ("torch", "__builtins__"):
            continue
        if obj is type(None):
            lines.append(f"{name} = type(None)")
            continue
        if isinstance(obj, float):   # inf / nan constants
            lines.append(f"{name} = float({str(obj)!r})")
            continue
        if isinstance(obj, str):   # a type written by name, e.g. 'torch.Tensor'
            lines.append(f"{name} = {obj}")
            continue
        if isinstance(obj, types.ModuleType):
            lines.append(f"import {obj.__name__} as {name}")
            continue
        mod = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None) or getattr(obj, "_name", None)
        if mod == "builtins" and qual:
            lines.append(f"{name} = {qual}")
        elif mod and qual and mod.split(".")[0] in ("torch", "typing", "operator", "math"):
            lines.append(f"import {mod}")
            lines.append(f"{name} = {mod}.{qual}")
        elif str(obj).startswith("typing."):
            lines.append("import typing")
            lines.append(f"{name} = {obj!r}")
        else:
            raise GenelangError.at("python", f"cannot write a reference to {obj!r}", "to='python'")
    return lines


def _traced(model: nn.Module) -> fx.GraphModule:
    class LeafTracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return type(m).__module__.startswith("torch.nn") and not isinstance(
                m, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) and type(m) is not fx.GraphModule

    tracer = LeafTracer()
    graph = tracer.trace(model.eval())
    return fx.GraphModule(tracer.root, graph)


def weights_path(out: Path) -> Path:
    """Where to_python puts the weights of OUT.py: OUT.weights.pt (never OUT.pt,
    which is what a TorchScript export of the same name writes)."""
    return out.with_name(f"{out.stem}.weights.pt")


def to_python(model: nn.Module, out: Path, class_name: str = "Network",
              rnn_loop: bool = False) -> Path:
    """Write OUT.py (torch only) and its weights beside it (weights_path(OUT)).

    The module is fx-traced down to torch.nn leaves, so the file is straight-line
    code; for a recurrent layer the traced code is one step and a short loop
    runs it over time."""
    target = model.forward_dir.cell if rnn_loop else model
    gm = _traced(target)
    mods, tensors, code, globs = _flatten(gm)
    body = [f"        self.{k} = {_ctor(m)}" for k, m in mods.items()]
    body += [f"        self.register_buffer({k!r}, torch.zeros({list(t.shape)!r}))" for k, t in tensors.items()]
    state = {f"{k}.{pn}": t for k, m in mods.items() for pn, t in m.state_dict().items()} | tensors
    step = "forward" if not rnn_loop else "step"
    code = code.replace("def forward(self", f"def {step}(self", 1)
    code = "\n".join("    " + ln if ln.strip() else "" for ln in code.strip("\n").splitlines())
    weights = weights_path(out)
    lines = [
        '"""A network written by `genelang compile --to python`. Needs only torch."""',
        "import torch",
        "from torch import nn",
        "from typing import List",
        *dict.fromkeys(globs),
        "",
        "",
        f"class {class_name}(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *body,
        "",
        code,
    ]
    if rnn_loop:
        cell = model.forward_dir.cell
        lines += ["",
                  "    def forward(self, x):",
                  f"        states = [x.new_zeros(x.size(0), {cell.hidden}) for _ in range({cell.n_states})]",
                  "        outs = []",
                  "        for t in range(x.size(1)):",
                  "            states = self.step(x[:, t], states)",
                  "            outs.append(states[0])",
                  "        return torch.stack(outs, 1)"]
    lines += ["", "",
              "def load(weights=None):",
              f'    """The network with its weights (default: {weights.name} beside this file)."""',
              "    import os",
              "    model = " + class_name + "()",
              f"    path = weights or os.path.join(os.path.dirname(os.path.abspath(__file__)), {weights.name!r})",
              "    model.load_state_dict(torch.load(path, weights_only=True))",
              "    return model.eval()", ""]
    atomic_write(out, "\n".join(lines))
    atomic_write(weights, lambda p: torch.save(state, str(p)))
    return weights
