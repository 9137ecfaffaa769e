"""Genomes as a search sees them: symbol lists inside the template's domains
(`codec`: their numeric encoding for predictors and policies) and GEP's
operators over them (`operators`)."""
