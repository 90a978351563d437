"""The web front end of a node, above the job engine (``app.p2p``): ``create_app`` in ``main`` builds the FastAPI
app, ``routes/`` holds its thin routers, ``deps`` their ``Annotated`` dependencies, ``dashboard/`` the read models
and actions the page needs beyond the job API, ``static/`` the page itself (ES modules, no build step) and
``server`` binds the socket and serves it all under uvicorn.
"""
