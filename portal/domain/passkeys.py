"""Passkeys and security keys (WebAuthn Level 3, through py_webauthn): the phishing-resistant second step.

The browser part is static/passkeys.js; without JavaScript a person uses their authenticator app instead.
"""

from __future__ import annotations

import json
import secrets

import webauthn
from sqlalchemy import select, update
from sqlmodel import Session, col
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.domain.account_models import SecondFactor
from portal.domain.models import utcnow
from portal.domain.two_step import PASSKEY, methods

# The service's name as the browser's passkey manager stores it with the passkey: one name in either language
# (a proper name), never translated.
RP_NAME = "Agent Online Self-Serve"  # i18n: the name an authenticator stores, in one language


def _descriptors(db: Session, user_id: int) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(f.credential_id))
            for f in methods(db, user_id) if f.kind == PASSKEY and f.credential_id]


def registration_options(db: Session, *, user_id: int, email: str, name: str, rp_id: str,
                         unused: str | None = None) -> tuple[str, str]:
    """(the options as JSON for navigator.credentials.create, the challenge to keep in the session). `unused`: a
    challenge issued to this session and not yet answered (the page loaded again, in another tab too), kept so
    that loading the page twice does not spoil the first; every answer uses it up."""
    challenge = webauthn.base64url_to_bytes(unused) if unused else secrets.token_bytes(32)
    options = webauthn.generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_name=email, user_display_name=name,
        user_id=str(user_id).encode(), challenge=challenge, exclude_credentials=_descriptors(db, user_id),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
    )
    return webauthn.options_to_json(options), bytes_to_base64url(challenge)


def add_passkey(db: Session, *, user_id: int, credential: str, challenge: str, rp_id: str,
                origin: str) -> SecondFactor | None:
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=webauthn.base64url_to_bytes(challenge),
            expected_rp_id=rp_id, expected_origin=origin)
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError, json.JSONDecodeError):
        return None
    # The label is stored for people reading the database; pages name a method by its kind, in their language.
    factor = SecondFactor(user_id=user_id, kind=PASSKEY, label="Passkey or security key",  # i18n: stored, never shown
                          secret=bytes_to_base64url(verified.credential_public_key),
                          credential_id=bytes_to_base64url(verified.credential_id), counter=verified.sign_count,
                          last_used_at=utcnow())
    db.add(factor)
    db.flush()
    return factor


def authentication_options(db: Session, *, user_id: int, rp_id: str, unused: str | None = None) -> tuple[str, str]:
    """As registration_options, for navigator.credentials.get."""
    challenge = webauthn.base64url_to_bytes(unused) if unused else secrets.token_bytes(32)
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, challenge=challenge, allow_credentials=_descriptors(db, user_id),
        user_verification=UserVerificationRequirement.PREFERRED)
    return webauthn.options_to_json(options), bytes_to_base64url(challenge)


def check_passkey(db: Session, *, user_id: int, credential: str, challenge: str, rp_id: str, origin: str) -> bool:
    """The assertion must come from one of this person's own passkeys, over the challenge we issued."""
    try:
        raw_id = json.loads(credential).get("id", "")
    except (json.JSONDecodeError, AttributeError):
        return False
    factor = db.execute(select(SecondFactor).where(col(SecondFactor.user_id) == user_id,
                                                   col(SecondFactor.kind) == PASSKEY,
                                                   col(SecondFactor.credential_id) == raw_id)).scalar_one_or_none()
    if factor is None:
        return False
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential, expected_challenge=webauthn.base64url_to_bytes(challenge), expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=webauthn.base64url_to_bytes(factor.secret),
            credential_current_sign_count=factor.counter)
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError):
        return False
    db.execute(update(SecondFactor).where(col(SecondFactor.id) == factor.id)
               .values(counter=verified.new_sign_count, last_used_at=utcnow()))
    return True
