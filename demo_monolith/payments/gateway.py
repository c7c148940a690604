"""
A stand-in for the card processor's SDK.

Production used to talk to a real PSP here; the demo keeps the same shape:
charge() returns a result object, and some tokens are always declined.
"""
import hashlib
from dataclasses import dataclass

from django.conf import settings

from core.utils import cents


@dataclass
class ChargeResult:
    ok: bool
    reference: str = ""
    message: str = ""


def charge(card_token, amount, currency, reference):
    if not card_token:
        return ChargeResult(ok=False, message="Missing card token.")
    if card_token in settings.PAYMENT_DECLINE_TOKENS:
        return ChargeResult(ok=False, message="Your card was declined.")
    if cents(amount) <= 0:
        return ChargeResult(ok=False, message="Nothing to charge.")
    digest = hashlib.sha256(f"{card_token}:{reference}:{cents(amount)}:{currency}".encode()).hexdigest()
    return ChargeResult(ok=True, reference=f"ch_{digest[:20]}")


def refund(reference, amount, currency):
    digest = hashlib.sha256(f"refund:{reference}:{cents(amount)}:{currency}".encode()).hexdigest()
    return ChargeResult(ok=True, reference=f"re_{digest[:20]}")
