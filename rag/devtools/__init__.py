"""Developer tools, outside the answering path: the evaluation runner, the benchmark and its synthetic corpora."""
