"""The PyTorch side of the chain-structured spaces (`compiler.chain_space`):
each space's family of blocks (`families`), the plan of a network on a
skeleton (`plan`), the network, its cost model and its supernet."""
