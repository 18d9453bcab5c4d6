"""The ASGI application for uvicorn and other servers."""

import gc

from portal.app import create_app

app = create_app()

# What was made to start (modules, catalogs, the app: most of the process's objects) lives
# as long as the process: out of the garbage collector's sight, a full collection no
# longer holds every request for a hundred milliseconds (the benchmark's p99).
gc.collect()
gc.freeze()
