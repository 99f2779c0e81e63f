"""Running the jobs: one unit of work per job, schedules, the APScheduler daemon with catch-up,
the single-instance lock, dead-man's switch pings and `monitor status`."""
