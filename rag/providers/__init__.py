"""Vendor adapters for language models: each SDK is imported in its own module here, and nowhere else."""
