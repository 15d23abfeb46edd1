"""Channel adapters: one module per provider, each verifying, parsing and sending (see base.py)."""
