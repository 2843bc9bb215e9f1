"""The real Chroma server (`chroma run`) the tests start: the benchmark's, in rag/devtools/chroma_server.py."""

from rag.devtools.chroma_server import ChromaServer

__all__ = ["ChromaServer"]
