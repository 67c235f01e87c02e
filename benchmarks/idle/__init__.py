"""Many idle connections to one server process: what each one costs in memory.

``python -m benchmarks.idle``; see ``__main__.py`` and benchmarks/README.md.
"""
