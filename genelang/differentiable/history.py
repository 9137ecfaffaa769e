"""The architecture weights' history: one record per epoch (α, the
distribution, the derived cell, its collapse shares, expected and derived
costs, losses), kept in the checkpoint and written beside it as JSON
(atomically, each epoch) and plotted at the end."""
from __future__ import annotations

import json
from pathlib import Path

from genelang.atomic import atomic_write

HISTORY = "alpha_history.json"
PLOT = "alpha.png"


def write_history(out_dir: Path, records: list[dict], summary: dict) -> Path:
    return atomic_write(out_dir / HISTORY, json.dumps({"summary": summary, "epochs": records}, indent=1))


def read_history(out_dir: Path) -> dict | None:
    path = Path(out_dir) / HISTORY
    return json.loads(path.read_text()) if path.exists() else None


def plot_history(out_dir: Path, records: list[dict], positions: list[str], choices: list[list[str]]) -> Path | None:
    """One panel per position (each choice's probability over the epochs) and one
    for the derived cell's skip and parameter-free shares."""
    if not records:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(positions) + 1
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    epochs = [r["epoch"] + 1 for r in records]
    for p, (name, names) in enumerate(zip(positions, choices)):
        ax = axes[p // cols][p % cols]
        for k, choice in enumerate(names):
            ax.plot(epochs, [r["probs"][p][k] for r in records], label=choice)
        ax.set_title(name, fontsize=9)
        ax.set_ylim(0, 1)
    axes[0][0].legend(fontsize=6)
    ax = axes[(n - 1) // cols][(n - 1) % cols]
    ax.plot(epochs, [r["skip_share"] for r in records], label="skip")
    ax.plot(epochs, [r["param_free_share"] for r in records], label="parameter-free")
    ax.set_title("derived cell", fontsize=9)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.supxlabel("epoch")
    fig.tight_layout()
    path = Path(out_dir) / PLOT
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)
    return path
