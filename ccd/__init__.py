"""ccd: a call-center daemon for small offices on analog lines."""

__version__ = "0.1.0"
