"""The search spec: its schema (`schema`: pydantic sections with the runtime's
defaults), the rules across sections (`rules`) and the located, did-you-mean
errors `spec check` reports (`check`); `starter.yaml` is `genelang init`'s."""
from genelang.evolve.spec.schema import SECTIONS, Spec, load_spec, parse_spec

__all__ = ["SECTIONS", "Spec", "load_spec", "parse_spec"]
