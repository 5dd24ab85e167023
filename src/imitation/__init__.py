"""imitation: implementations of imitation and reward learning algorithms."""

__version__ = "1.0.0"
