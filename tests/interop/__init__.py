"""wsproto_cb against other WebSocket implementations (see conftest.py)."""
