"""Evolution: spec, GEP operators, strategies, fitness, store, search loop."""
