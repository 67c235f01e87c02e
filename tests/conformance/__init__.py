"""Autobahn|Testsuite conformance runs for wsproto_cb (``python -m tests.conformance.run``).

Four agents: wstest's fuzzingclient against our echo server and wstest's
fuzzingserver against our testee client, each on asyncio and on Twisted.
Autobahn|Python can stand in for wsproto_cb (``--impl autobahn``): the agent
scripts use only the Autobahn-style API, imported by module name.
"""
