"""Custom Rasa components for infobot (imported by `rasa train` and `rasa run` through PYTHONPATH=intents)."""
