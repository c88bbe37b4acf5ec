"""Logging filters (config.settings.LOGGING)."""

import logging


class WithoutTraceback(logging.Filter):
    """Keep the line, drop the traceback: for errors anyone can cause from outside (a request with a bad Host
    header), whose stack says nothing and would let a client fill the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True
