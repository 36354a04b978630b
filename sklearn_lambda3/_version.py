"""The package's version, in a module of its own: setup.cfg and the version stamp of saved
models read it without importing the package."""

__version__ = "0.1.0"
