"""layerlens: measure and fix Dockerfile layer order, cache churn and image bloat."""

__version__ = "0.1.0"
