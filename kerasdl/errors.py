"""The kit's own exceptions: each message is one line that says what to do."""


class KerasdlError(Exception):
    """Base class; the command line prints these as one line, without a traceback."""


class BackendError(KerasdlError, ValueError):
    """The backend name is unknown, or keras is already running another backend."""


class DataError(KerasdlError, ValueError):
    """A data source is missing, unreadable or too small for what was asked."""


class DatasetUnavailable(DataError):
    """A downloadable dataset is neither cached nor reachable."""
