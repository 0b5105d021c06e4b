"""The package version, in one place every module can import without importing the package's API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
