"""OAuth 2.0 for the API: Authlib's authorization server (RFC 6749 code grant and refresh, RFC 7636 PKCE,
RFC 7009 revocation) adapted to Starlette requests and our SQLModel rows. Authlib does the protocol; this
module only stores and finds what it asks for, every token and code as a hash (portal.domain.accounts)."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    JsonRequest,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant as _AuthorizationCodeGrant
from authlib.oauth2.rfc6749.grants import RefreshTokenGrant as _RefreshTokenGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import func, or_, select, update
from sqlmodel import Session, col
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.domain import api_access, audit
from portal.domain.accounts import token_hash
from portal.domain.api_models import ApiApplication, ApiAuthorizationCode, ApiToken
from portal.domain.models import Membership, User, utcnow
from portal.domain.sql import rowcount
from portal.domain.times import aware
from portal.web.db import db_session, keep_despite_refusal

TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class Client(ClientMixin):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, row: ApiApplication) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.row.redirect_uris[0] if self.row.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(api_access.scopes_in(scope or ""))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return api_access.redirect_uri_matches(self.row.redirect_uris, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(token_hash(client_secret), self.row.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class Code:
    """What Authlib reads of an authorization code."""

    def __init__(self, row: ApiAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge or None
        self.code_challenge_method = row.code_challenge_method or None

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: ApiToken, db: Session) -> None:
        self.row = row
        self.db = db

    def check_client(self, client: Client) -> bool:
        return self.row.application_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return self.row.expires_in

    def is_expired(self) -> bool:
        return (utcnow() - aware(self.row.issued_at)).total_seconds() >= self.row.expires_in

    def is_revoked(self) -> bool:
        return self.row.access_revoked_at is not None

    def get_user(self) -> User | None:
        return self.db.get(User, self.row.user_id)


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    """Authlib's request, built from what the handler has already read (Starlette reads bodies asynchronously;
    Authlib is synchronous)."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        # Authlib refuses plain-HTTP URLs; TLS ends at the deployment's front (HSTS, Secure cookies), so the hop
        # this process sees says nothing about it.
        super().__init__(request.method, str(request.url.replace(scheme="https")), headers=dict(request.headers))
        self._args = dict(request.query_params)
        self._form = form
        self.payload = BasicOAuth2Payload({**self._args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class AuthorizationCodeGrant(_AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        db: Session = self.server.db
        payload = request.payload
        db.add(ApiAuthorizationCode(
            code_hash=token_hash(code), application_id=request.client.row.id, user_id=request.user.id,
            redirect_uri=payload.redirect_uri or "", scope=request.scope or "",
            code_challenge=payload.data.get("code_challenge") or "",
            code_challenge_method=payload.data.get("code_challenge_method") or ""))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        db: Session = self.server.db
        row = db.execute(select(ApiAuthorizationCode).where(col(ApiAuthorizationCode.code_hash) == token_hash(code))
                         ).scalar_one_or_none()
        if row is None or row.application_id != client.row.id or row.used_at is not None:
            return None
        if utcnow() - aware(row.created_at) > api_access.CODE_LIFE:
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        # A compare-and-set, so a code raced to the token endpoint twice gives one set of tokens: the loser's
        # transaction rolls back with its tokens.
        db: Session = self.server.db
        result = db.execute(update(ApiAuthorizationCode)
                            .where(col(ApiAuthorizationCode.id) == authorization_code.row.id,
                                   col(ApiAuthorizationCode.used_at).is_(None))
                            .values(used_at=utcnow()).execution_options(synchronize_session=False))
        if rowcount(result) != 1:
            raise CodeAlreadyUsed()

    def authenticate_user(self, authorization_code: Code) -> User | None:
        db: Session = self.server.db
        return db.get(User, authorization_code.row.user_id)


class PkceAlways(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 for every client, confidential ones too (RFC 9700 §2.1.1): a code stolen on its way back to a
    loopback address is useless without the verifier. Only S256: "plain" protects nothing."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        if not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        if not grant.request.payload.data.get("code_challenge_method"):
            raise InvalidRequestError("Missing 'code_challenge_method'")
        super().validate_code_challenge(grant, redirect_uri)


class CodeAlreadyUsed(Exception):
    pass


class RefreshTokenReused(Exception):
    """A refresh token was presented again after it had been used: its grant has been ended (and audited) in
    this transaction, which must be kept although the answer is a refusal."""


class RefreshTokenGrant(_RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token is used once and replaced

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        db: Session = self.server.db
        now = utcnow()
        row = db.execute(select(ApiToken).where(col(ApiToken.refresh_token_hash) == token_hash(refresh_token))
                         ).scalar_one_or_none()
        if row is None or row.application_id != self.request.client.row.id:
            return None
        if row.refresh_used_at is not None:
            # Used once already: either the software or a thief holds a copy, and the server cannot tell which.
            # RFC 9700 §4.14.2: end every token of the grant, so whichever of them it is must ask the agent again.
            end_grant_after_reuse(db, row)
            raise RefreshTokenReused()
        if row.refresh_revoked_at is not None or aware(row.refresh_expires_at) <= now:
            return None
        # Single use, decided by the database: of two refreshes racing with one token, one wins, and the other is a
        # reuse like any other.
        result = db.execute(update(ApiToken)
                            .where(col(ApiToken.id) == row.id, col(ApiToken.refresh_used_at).is_(None),
                                   col(ApiToken.refresh_revoked_at).is_(None))
                            .values(refresh_used_at=now, refresh_revoked_at=now, access_revoked_at=now)
                            .execution_options(synchronize_session=False))
        if rowcount(result) != 1:
            end_grant_after_reuse(db, row)
            raise RefreshTokenReused()
        return Token(row, db)

    def authenticate_user(self, refresh_token: Token) -> User | None:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: Token) -> None:
        pass  # already revoked when it was accepted (authenticate_refresh_token)


def end_grant_after_reuse(db: Session, row: ApiToken) -> int:
    """Revokes every access and refresh token of the reused token's grant and audits it: how many tokens were
    still live. Of the agent's other grants to the same software (another computer, say) nothing changes."""
    now = utcnow()
    grant = col(ApiToken.grant_id) == row.grant_id if row.grant_id else col(ApiToken.id) == row.id
    live = or_(col(ApiToken.access_revoked_at).is_(None), col(ApiToken.refresh_revoked_at).is_(None))
    ended = rowcount(db.execute(
        update(ApiToken).where(grant, live)
        .values(access_revoked_at=func.coalesce(col(ApiToken.access_revoked_at), now),
                refresh_revoked_at=func.coalesce(col(ApiToken.refresh_revoked_at), now))
        .execution_options(synchronize_session=False)))
    application = db.get(ApiApplication, row.application_id)
    firm_id = db.execute(select(col(Membership.firm_id)).where(col(Membership.user_id) == row.user_id)).scalar()
    audit.record(db, "api_refresh_token_reused", authority="agent", actor_user_id=row.user_id, firm_id=firm_id,
                 application=application.name if application else "", agent_user_id=row.user_id,
                 grant=row.grant_id, tokens_revoked=ended)
    return ended


class RevocationEndpoint(_RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        db: Session = self.server.db
        hashed = token_hash(token_string)
        if token_type_hint == "access_token":
            condition = col(ApiToken.access_token_hash) == hashed
        elif token_type_hint == "refresh_token":
            condition = col(ApiToken.refresh_token_hash) == hashed
        else:
            condition = or_(col(ApiToken.access_token_hash) == hashed, col(ApiToken.refresh_token_hash) == hashed)
        row = db.execute(select(ApiToken).where(condition)).scalar_one_or_none()
        return Token(row, db) if row is not None else None

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        # Either token ends the grant it belongs to (RFC 7009 §2.1 lets a server revoke both).
        now = utcnow()
        token.db.execute(update(ApiToken).where(col(ApiToken.id) == token.row.id).values(
            access_revoked_at=token.row.access_revoked_at or now,
            refresh_revoked_at=token.row.refresh_revoked_at or now).execution_options(synchronize_session=False))


class Server(AuthorizationServer):  # type: ignore[misc]
    """One per request: it holds that request's database session."""

    def __init__(self, db: Session) -> None:
        super().__init__(scopes_supported=list(api_access.SCOPES))
        self.db = db
        self.register_token_generator("default", BearerTokenGenerator(
            access_token_generator=_random_token, refresh_token_generator=_random_token,
            expires_generator=lambda client, grant_type: api_access.ACCESS_TOKEN_SECONDS))
        self.register_grant(AuthorizationCodeGrant, [PkceAlways(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(RevocationEndpoint)

    def query_client(self, client_id: str) -> Client | None:
        row = self.db.execute(select(ApiApplication).where(col(ApiApplication.client_id) == client_id)
                              ).scalar_one_or_none()
        return Client(row) if row is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        refresh = token.get("refresh_token")
        # A refresh continues the grant of the token it replaces; a code starts a new one.
        previous: Token | None = getattr(request, "refresh_token", None)
        grant_id = (previous.row.grant_id if previous is not None else None) or secrets.token_hex(16)
        self.db.add(ApiToken(grant_id=grant_id,
            application_id=request.client.row.id, user_id=request.user.id, scope=token.get("scope", ""),
            access_token_hash=token_hash(token["access_token"]),
            refresh_token_hash=token_hash(refresh) if refresh else None, expires_in=int(token["expires_in"]),
            refresh_expires_at=utcnow() + api_access.REFRESH_TOKEN_LIFE))
        self.db.flush()

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # handlers build it (StarletteOAuth2Request), having read the body

    def create_json_request(self, request: Request) -> JsonRequest:
        raise NotImplementedError("no JSON endpoints")  # device and client registration flows are not offered

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            response: Response = JSONResponse(body, status_code=status)
        else:
            response = Response(body or b"", status_code=status)
        for name, value in headers:
            if name.lower() != "content-type":
                response.headers[name] = value
        return response


def _random_token(client: Client, grant_type: str, user: User, scope: str) -> str:
    return secrets.token_urlsafe(32)


def find_access_token(db: Session, token: str) -> ApiToken | None:
    """The live token a bearer header carries, or None (unknown, expired or revoked)."""
    row: ApiToken | None = db.execute(select(ApiToken).where(col(ApiToken.access_token_hash) == token_hash(token))
                                      ).scalar_one_or_none()
    if row is None or row.access_revoked_at is not None:
        return None
    if (utcnow() - aware(row.issued_at)).total_seconds() >= row.expires_in:
        return None
    return row



async def _form(request: Request) -> dict[str, str]:
    data = await request.form(max_files=0, max_fields=50)
    return {key: value for key, value in data.items() if isinstance(value, str)}


async def token(request: Request) -> Response:
    """RFC 6749 §3.2: codes and refresh tokens for tokens. No cookie is read here: the client authenticates."""
    oauth_request = StarletteOAuth2Request(request, await _form(request))
    try:
        response: Response = Server(db_session(request)).create_token_response(oauth_request)
    except CodeAlreadyUsed:
        return JSONResponse({"error": "invalid_grant", "error_description": "The code has already been used."},
                            status_code=400, headers={"Cache-Control": "no-store"})
    except RefreshTokenReused:
        keep_despite_refusal(request)  # the grant's revocation and its audit event stand
        return JSONResponse({"error": "invalid_grant", "error_description": "The refresh token has already been "
                             "used: every token of this grant is revoked. Ask the agent to grant access again."},
                            status_code=400, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
    return response


async def revoke(request: Request) -> Response:
    """RFC 7009: the software gives up a token (and the grant it belongs to)."""
    oauth_request = StarletteOAuth2Request(request, await _form(request))
    response: Response = Server(db_session(request)).create_endpoint_response(
        RevocationEndpoint.ENDPOINT_NAME, oauth_request)
    return response


routes = [
    Route("/oauth/token", token, methods=["POST"], name="oauth_token"),
    Route("/oauth/revoke", revoke, methods=["POST"], name="oauth_revoke"),
]
