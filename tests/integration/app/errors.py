"""An exception both sides import: the monolith raises it, so does its extracted handler."""


class QuoteRefused(Exception):
    """A domain error: the answer to a request, not a failure of the function path."""
