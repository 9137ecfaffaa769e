"""The controller's policy (evolve/strategies/controller.py): a distribution over the
symbols of a template's free positions, trained by REINFORCE.

A genome is a vector of choices, one per free position (a position whose
domain holds more than one symbol; the others always hold their one symbol),
each an index into that position's domain. Two policies:

- `independent`: one categorical per position (a row of logits each), zero
  logits at the start: uniform over each domain.
- `lstm`: ENAS's controller: an LSTM cell steps through the positions in
  genome order; each step reads the embedding of the previous choice's symbol
  and scores the symbols of the position's domain with a softmax shared by
  all positions (so a position's choice depends on the ones before it).

Sampling draws from a numpy generator through the inverse CDF, so a sample is
a function of the policy's state and the uniforms given, never of torch's
global random state; the LSTM's initial weights come from a seeded generator.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import nn

from genelang.evolve.genome.codec import Codec
from genelang.compiler.template import Symbols

_MASKED = -1e9     # padding of a short domain: probability exactly 0, log-probability finite


class Positions:
    """The free positions of a template and the choice vectors that encode genomes."""

    def __init__(self, codec: Codec):
        self.codec = codec
        self.columns = codec.free_columns
        self.domain = codec.domain[self.columns]            # (position, padded symbol ids)
        self.mask = np.arange(self.domain.shape[1])[None, :] < codec.domain_size[self.columns][:, None]
        self.fixed = codec.domain[:, 0]                      # a row with every fixed column set

    def __len__(self) -> int:
        return len(self.columns)

    def choices(self, syms: Symbols) -> np.ndarray:
        row = self.codec.encode([syms])[0][self.columns]
        return (self.domain == row[:, None]).argmax(axis=1)   # padding repeats the first id: first match

    def symbols(self, choices: np.ndarray) -> Symbols:
        row = self.fixed.copy()
        row[self.columns] = self.domain[np.arange(len(self)), choices]
        return self.codec.decode(row[None])[0]


def _draw(logits: torch.Tensor, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from the distributions of `logits` (..., domain), one per
    uniform in `u` (shaped as the distributions, or with a leading sample axis)."""
    p = torch.softmax(logits.detach().double(), dim=-1).numpy()
    cdf = np.cumsum(p, axis=-1)
    k = (cdf < u[..., None] * cdf[..., -1:]).sum(axis=-1)
    return np.minimum(k, (p > 0).sum(axis=-1) - 1)


class Policy(nn.Module, ABC):
    def __init__(self, positions: Positions):
        super().__init__()
        self.positions = positions
        self.register_buffer("mask", torch.as_tensor(positions.mask))

    @abstractmethod
    def logits(self, choices: torch.Tensor) -> torch.Tensor:
        """(samples, positions, domain) masked logits of each position's
        distribution, given the samples' earlier choices."""

    @abstractmethod
    def sample(self, u: np.ndarray) -> np.ndarray:
        """(samples, positions) choices from uniforms `u` of the same shape."""

    def log_prob_and_entropy(self, choices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample: the log-probability of its choices and the summed entropy of
        the distributions it was drawn from."""
        logp = torch.log_softmax(self.logits(choices), dim=-1)
        chosen = logp.gather(-1, choices[..., None]).squeeze(-1).sum(-1)
        return chosen, -(logp.exp() * logp).sum(-1).sum(-1)


class IndependentPolicy(Policy):
    def __init__(self, positions: Positions):
        super().__init__(positions)
        self.weight = nn.Parameter(torch.zeros(positions.mask.shape, dtype=torch.float32))

    def _masked(self) -> torch.Tensor:
        return self.weight.masked_fill(~self.mask, _MASKED)

    def logits(self, choices: torch.Tensor) -> torch.Tensor:
        return self._masked().expand(len(choices), -1, -1)

    def sample(self, u: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return _draw(self._masked(), u)


class LSTMPolicy(Policy):
    def __init__(self, positions: Positions, hidden: int, seed: int):
        super().__init__(positions)
        n_symbols = len(positions.codec.symbols)
        self.embed = nn.Embedding(n_symbols + 1, hidden)     # the last row: the start token
        self.cell = nn.LSTMCell(hidden, hidden)
        self.out = nn.Linear(hidden, n_symbols)
        self.register_buffer("domain", torch.as_tensor(positions.domain))
        g = torch.Generator().manual_seed(seed)
        for p in self.parameters():    # ENAS's initialisation, from the run's seed
            nn.init.uniform_(p, -0.1, 0.1, generator=g)
        with torch.no_grad():          # a uniform policy at the start, as the independent one
            self.out.weight.zero_()
            self.out.bias.zero_()

    def _steps(self, n: int, choose):
        """Step through the positions for `n` samples; `choose(p, logits)` gives
        position p's choices. Yields each position's masked logits."""
        prev = torch.full((n,), self.embed.num_embeddings - 1, dtype=torch.long)
        state = None
        for p in range(len(self.positions)):
            state = self.cell(self.embed(prev), state)
            logits = self.out(state[0])[:, self.domain[p]].masked_fill(~self.mask[p], _MASKED)
            yield logits
            prev = self.domain[p][choose(p, logits)]

    def logits(self, choices: torch.Tensor) -> torch.Tensor:
        steps = list(self._steps(len(choices), lambda p, _: choices[:, p]))
        return torch.stack(steps, dim=1) if steps else torch.zeros(len(choices), 0, self.mask.shape[1])

    def sample(self, u: np.ndarray) -> np.ndarray:
        out = np.zeros(u.shape, dtype=np.int64)

        def choose(p, logits):
            out[:, p] = _draw(logits, u[:, p])
            return torch.as_tensor(out[:, p])
        with torch.no_grad():
            for _ in self._steps(len(u), choose):
                pass
        return out


def make_policy(kind: str, positions: Positions, *, hidden: int, seed: int) -> Policy:
    return IndependentPolicy(positions) if kind == "independent" else LSTMPolicy(positions, hidden, seed)


class Reinforce:
    """REINFORCE with an entropy bonus: one Adam step per sample, ascending
    advantage × log π(sample) + entropy_weight × H(π)."""

    def __init__(self, policy: Policy, lr: float, entropy_weight: float):
        self.policy, self.entropy_weight = policy, entropy_weight
        self.opt = torch.optim.Adam(policy.parameters(), lr=lr)

    def step(self, choices: np.ndarray, advantage: float) -> None:
        logp, entropy = self.policy.log_prob_and_entropy(torch.as_tensor(choices)[None])
        loss = -(advantage * logp + self.entropy_weight * entropy).sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
