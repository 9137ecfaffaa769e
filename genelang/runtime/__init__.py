"""The runtime: networks assembled from compiled cells, tasks, training."""
