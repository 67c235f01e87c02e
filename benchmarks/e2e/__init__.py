"""End-to-end WebSocket server benchmark: echo servers on 127.0.0.1, a stdlib load driver.

``python -m benchmarks.e2e [--quick] [--servers a,b] [--scenarios S1,...] [--json out.json]``;
see benchmarks/README.md and docs/performance.md.
"""
