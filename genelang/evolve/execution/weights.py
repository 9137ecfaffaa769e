"""The weight banks of a search with `fitness.inherit_weights` (NASGEP).

Generation g's candidates start from `bank-{g-1}.pt` and each writes its
trained blocks to `gen-{g}/<phenotype>.pt`; once the generation is evaluated
they are merged, in the generation's order, into `bank-{g}.pt`. Every
candidate of a generation therefore sees the same bank, whichever worker runs
it and however often the run was interrupted, so the same spec and seed give
the same search. A bank is written atomically before the generation's
population is saved; a rerun that finds it keeps it. The files live in the
run directory, so workers must see it: local processes, or Ray nodes that
share the filesystem.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from genelang.runtime.inherit import load_bank, merge, save_bank


class WeightBanks:
    def __init__(self, root: Path):
        self.root = root

    def bank(self, generation: int) -> Path:
        return self.root / f"bank-{generation}.pt"

    def context(self, generation: int) -> dict:
        """What a candidate of `generation` needs: the bank to start from and where to leave its blocks."""
        prev = self.bank(generation - 1)
        return {"bank": str(prev) if prev.exists() else None,
                "out": str(self.root / f"gen-{generation}")}

    def update(self, generation: int, phenotypes: list[str]) -> int:
        """Merge this generation's trained blocks into its bank; returns how many blocks were taken."""
        path = self.bank(generation)
        if path.exists():   # written before an interruption
            return 0
        bank = load_bank(self.bank(generation - 1))
        taken = 0
        cand_dir = self.root / f"gen-{generation}"
        for ph in dict.fromkeys(phenotypes):
            f = cand_dir / f"{ph}.pt"
            if f.exists():
                taken += merge(bank, load_bank(f))
        save_bank(bank, path)
        shutil.rmtree(cand_dir, ignore_errors=True)
        self.bank(generation - 2).unlink(missing_ok=True)   # a rerun needs bank g-1 at most
        return taken
