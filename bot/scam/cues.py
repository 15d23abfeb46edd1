"""Engineered features for the scam model: how a message is framed and who asks for what.

Word and character n-grams learn most of the wording, but not the things that decide between an offer and a
warning about one: whether the message names a scam, tells people never to pay, asks a question, reports a
demand made to the person; whether someone asks for money, codes, documents, secrecy or haste; and whether
the channel is official. Each becomes a token ("frame:warning", "ask:code", ...) the model weighs.
"""

from __future__ import annotations

import re
from functools import cache

from bot.scam.lexicon import Matcher
from bot.scam.rules import RuleFindings
from bot.scam.text import Text

# Phrases are matched on the normalised words view (lowercase, no accents, punctuation as spaces).
_LISTS: dict[str, list[str]] = {
    # The message names a fraud or a lie: warnings and reports do, offers almost never do.
    "frame:names_scam": [
        "estafa*",
        "fraude*",
        "fraudulent*",
        "falso",
        "falsa",
        "falsos",
        "falsas",
        "engano*",
        "enganio*",
        "mentira*",
        "timo",
        "scam*",
        "fraud*",
        "fake",
        "fakes",
        "lie",
        "lies",
        "lying",
        "arnaque*",
        "escroquerie*",
        "escroc*",
        "faux",
        "fausse",
        "fausses",
        "mensonge*",
        "eskwokri",
        "eskwok*",
        "eskwo",
        "manti",
        "fo papye",
    ],
    # Telling people not to pay or not to trust: advice, not an offer.
    "frame:never_pay": [
        "no pague*",
        "no paguen",
        "nunca pague*",
        "no deposite*",
        "no envie*",
        "no mande*",
        "no entregue*",
        "no le den",
        "no den",
        "no caiga*",
        "no compre*",
        "no compartas",
        "no comparta",
        "no te dejes",
        "never pay",
        "don t pay",
        "dont pay",
        "do not pay",
        "never send",
        "don t send",
        "do not send",
        "never share",
        "don t share",
        "do not share",
        "don t give",
        "don t trust",
        "never give",
        "ne payez",
        "ne payez jamais",
        "ne paie",
        "ne donnez",
        "ne partagez",
        "n envoyez",
        "ne faites pas confiance",
        "jamais d argent",
        "pa peye",
        "pa janm peye",
        "pa voye",
        "pa bay",
        "pa janm bay",
        "pa fe konfyans",
        "pa kite yo",
    ],
    # Public-notice vocabulary.
    "frame:alert": [
        "alerta",
        "aviso",
        "advertencia",
        "atencion",
        "ojo",
        "cuidado",
        "comunicado",
        "informa",
        "recuerda",
        "alert",
        "warning",
        "heads up",
        "beware",
        "watch out",
        "be careful",
        "reminder",
        "notice",
        "attention",
        "alerte",
        "mise en garde",
        "mefiez",
        "rappel",
        "avis",
        "informe",
        "atansyon",
        "avi",
        "veye",
        "fe atansyon",
        "rapel",
        "enfome",
        "avèti",
        "aveti",
    ],
    # What an official procedure costs: "es gratis", "free of charge", "gratuit", "gratis".
    "frame:free": [
        "gratis",
        "gratuito",
        "gratuita",
        "gratuitos",
        "gratuitas",
        "sin costo",
        "no cobra*",
        "no tiene costo",
        "free",
        "free of charge",
        "no cost",
        "no fee",
        "no fees",
        "never charge*",
        "does not charge",
        "gratuit",
        "gratuite",
        "gratuits",
        "gratuitement",
        "sans frais",
        "aucun frais",
        "pa gen fre",
        "pa koute anyen",
        "san peye",
    ],
    # Secrecy: offers and extortion ask for it.
    "ask:secrecy": [
        "no le digas",
        "no le diga*",
        "no digas",
        "no cuelgue*",
        "no llame* a",
        "no le marques",
        "no avise*",
        "don t tell",
        "dont tell",
        "tell no one",
        "do not tell",
        "don t hang up",
        "do not hang up",
        "don t call",
        "do not call anyone",
        "stay on the line",
        "dis rien",
        "ne dites rien",
        "ne raccroche*",
        "n appelle* pas",
        "dis le a personne",
        "pa di pesonn",
        "pa di anyen",
        "pa rakwoche",
        "pa rele lapolis",
        "pa di manman",
    ],
    # Codes, PINs, passwords, card numbers.
    "ask:code": [
        "codigo",
        "código",
        "clave",
        "nip",
        "pin",
        "contrasena",
        "token",
        "code",
        "passcode",
        "password",
        "card number",
        "numero de tarjeta",
        "numero de carte",
        "code secret",
        "mot de passe",
        "kod",
        "modpas",
        "nimewo kat",
    ],
    # A known way to move money (a transfer is how most scams are paid).
    "ask:transfer": [
        "western union",
        "moneygram",
        "remitly",
        "oxxo",
        "elektra",
        "coppel",
        "zelle",
        "cash app",
        "cashapp",
        "venmo",
        "binance",
        "usdt",
        "bitcoin",
        "moncash",
        "natcash",
        "ria",
        "yappy",
        "sinpe",
        "nequi",
        "gift card*",
        "tarjeta* de regalo",
        "carte* cadeau*",
        "kat kado",
        "google play",
        "transferencia",
        "virement",
        "transfe",
        "deposito",
        "depot",
        "depo",
        "wire",
    ],
    # The person sends or gives money themselves (family, wages, own plans).
    "frame:own_money": [
        "te mande",
        "te envie",
        "te deposite",
        "te transferi",
        "le mande",
        "ya te",
        "me mandaste",
        "me pagan",
        "me pagaron",
        "i sent you",
        "i sent",
        "sent you",
        "i paid",
        "i owe",
        "i ll pay",
        "paid me",
        "je t ai envoye",
        "j ai envoye",
        "j ai paye",
        "je dois",
        "on me paie",
        "m voye",
        "mwen voye",
        "m peye",
        "m dwe",
        "yo peye m",
    ],
}
_QUESTION_END = re.compile(r"\?\s*$")


@cache
def _matchers() -> dict[str, Matcher]:
    return {name: Matcher.build(phrases) for name, phrases in _LISTS.items()}


def cue_tokens(prepared: Text, findings: RuleFindings) -> list[str]:
    """The message's engineered features, as tokens for a bag-of-features vectoriser."""
    tokens = [f"sig:{s}" for s in findings.signals]
    tokens += [f"domain:{kind}" for kind in findings.domains]
    for name, matcher in _matchers().items():
        if matcher.find(prepared.words, []):
            tokens.append(name)
    if findings.amounts:
        tokens.append("ask:amount")
    if findings.warnings:
        tokens.append("frame:warning_context")
    if findings.reported_demand:
        tokens.append("frame:reported_demand")
    if _QUESTION_END.search(prepared.lower) or any(c.is_question for c in prepared.clauses):
        tokens.append("frame:question")
    framed = {"frame:names_scam", "frame:never_pay", "frame:alert", "frame:warning_context"} & set(tokens)
    if framed and findings.amounts:
        tokens.append("frame:warning_with_amount")
    if not tokens:
        tokens.append("none")
    return tokens
