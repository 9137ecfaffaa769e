"""Registers the built-in spaces and their operations. The registry imports
none of them; importing `genelang.compiler` imports this module once."""
from genelang.compiler import chain_space, darts_space, nb201, opsets, transformer_space  # noqa: F401  (each registers on import)
