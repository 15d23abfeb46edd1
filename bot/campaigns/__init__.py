"""C4D campaigns (issue 16): opt-in subscriptions with consent, and broadcasts sent once per person.

subscribers.py (consent, import, opt-out), spec.py (a campaign file), audience.py (who it reaches),
claims.py (the SQL claim that makes sending exactly-once), pacing.py (per-channel rate limits),
delivery.py (one recipient through the channel adapters), worker.py (the job queue: arq on Redis or
in-process), runner.py (the CLI), reach.py (what the programme counts, without addresses).
"""
