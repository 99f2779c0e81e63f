"""CustomersDot monitor: customers hit by purchase errors or undeliverable mail, in a daily digest."""

__version__ = "0.1.0"
