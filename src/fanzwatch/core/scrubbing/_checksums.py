"""Check digits that tell a card number or an IBAN from any other run of digits."""

from __future__ import annotations

# Issuer prefixes in use: 2 (Mastercard 2-series), 3 (Amex, Diners, JCB), 4 (Visa),
# 5 (Mastercard, Maestro), 6 (Discover, UnionPay, Maestro). A leading 0, 1, 7, 8 or 9 is
# an order number or an epoch timestamp, not a card.
_CARD_FIRST_DIGITS = frozenset("23456")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check on a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """13 to 19 digits with an issuer's first digit and a valid Luhn check digit."""
    return 13 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and luhn_ok(digits)


def iban_ok(candidate: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN (spaces ignored)."""
    text = candidate.replace(" ", "").upper()
    if not 15 <= len(text) <= 34 or not text[:2].isalpha() or not text[2:4].isdigit():
        return False
    rearranged = text[4:] + text[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1
