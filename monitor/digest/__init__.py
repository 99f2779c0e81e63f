"""The digest: the day's rows as input (`model`), the pure build and next steps, rendering
with jinja2, delivery (SMTP, Mailgun, file) and the digest job that ties them together."""
