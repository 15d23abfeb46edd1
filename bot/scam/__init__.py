"""Scam check: is a forwarded or described offer a scam? In es, en, fr and ht.

Public API:
- `assess(text, language=None, country=None) -> Assessment` — verdict, signals and quoted evidence;
- `render_assessment(assessment, language) -> str` — the answer in plain words (never "safe");
- `mask_personal_data(text) -> str` — phones, e-mails and names masked before a report is stored;
- `bot.scam.batch.run_scam_check(source, out, err) -> int` — JSON lines in and out.
A model trained on the corpus of bot/scam/corpus/ decides (bot/scam/training.py, bot/scam/model.py); the word
lists and the answers are data in content/scam/ (signals.yml, patterns.yml, messages.yml).
"""

from bot.scam.detector import Assessment, assess
from bot.scam.masking import mask_personal_data
from bot.scam.render import render_assessment

__all__ = ["Assessment", "assess", "mask_personal_data", "render_assessment"]
