"""One module per ``strangler`` command group; each is registered in ``strangler.cli``."""
