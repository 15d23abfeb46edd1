"""infobot: a multilingual information chatbot for migrants (es, en, fr, ht)."""

LANGUAGES: tuple[str, ...] = ("es", "en", "fr", "ht")
"""The conversation languages, in menu order. Haitian Creole is a first-class language."""

COUNTRIES: tuple[str, ...] = ("BZ", "CR", "DO", "GD", "GT", "HN", "HT", "MX", "PA", "SR", "SV")
"""The programme's countries (ISO 3166-1 alpha-2); any other code gets general guidance."""

__version__ = "0.1.0"
