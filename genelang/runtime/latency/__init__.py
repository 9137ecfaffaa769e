"""Latency: a table of times measured on the user's device, and a candidate's
predicted latency as the sum of its entries.

A space prices latency through its `latency_model` (the chain spaces: one entry
per layer position, block and input shape, plus the stem and head); any other
space is measured end to end, one entry per phenotype. A table is keyed by
device, torch version, threads and batch: a table measured elsewhere is never
read. A missing entry is measured (and stored) or reported, never zero."""
from genelang.runtime.latency.config import LatencyConfig   # torch-free: the spec schema reads it

__all__ = ["LatencyConfig"]   # the rest (predict, table, timer) import torch: import them by module
