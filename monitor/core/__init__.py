"""The pure core: records, errors, classification, linking, time and cron arithmetic.

Nothing here does I/O or reads the clock (`now` is always a parameter); the import contract
in pyproject.toml keeps it so."""
