"""Studies of hand-written genotypes: ablations, samples and statistical comparisons."""
