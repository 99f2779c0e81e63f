"""Configuration: the settings model, loading and validating `schedules.toml`, secrets,
logging with redaction, and the app context every command is built from."""
