"""The node's HTTP API: thin FastAPI routers over the p2p service functions (``create_app`` in ``main``)."""
