"""Language commands: check, fmt, show."""
