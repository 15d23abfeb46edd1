"""The bottom floor: words every layer shares (text cleaning and normalisation, message types, topics).

Nothing here imports another bot package."""
