"""The abuse suite: hostile peers against a real server process, on both runtimes.

Each attack starts ``wsproto-cb serve`` (asyncio or Twisted) in a process of
its own, attacks it from this process over 127.0.0.1 with every loop
bounded in count and time, reads the server's memory and CPU time from
``/proc/<pid>`` before and after, checks that a normal client still gets
its echo, and reports one row: attack, runtime, RSS, CPU, outcome.

Full run (minutes; prints a Markdown table, see docs/deployment.md)::

    python -m tests.abuse [--quick] [--runtime asyncio|twisted] [ATTACK ...]

``tests/abuse/test_abuse.py`` plays the quick subset (:data:`catalog.QUICK`)
under pytest, so ``.ci/run`` checks that the server survives each attack
with its memory bounded.
"""
