"""Imports the built-in chain families (each registers on import)."""
from genelang.runtime.chain import fbnet, proxyless, spos  # noqa: F401
