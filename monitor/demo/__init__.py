"""`monitor demo`: the whole job against the bundled simulators, sample data and an SMTP sink."""
