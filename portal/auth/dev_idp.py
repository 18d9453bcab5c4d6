"""The development identity provider: a small, real OpenID Connect provider.

Enabled only outside production. It lists the demo people by name (the only
place where test identities are chosen) and issues RS256-signed ID tokens
with the same claims as the real brokers: the Swedish personal identity
number claim (or the coordination number claim for a samordningsnummer),
the Finnish personbeteckning claim, names, and for staff an employee id and
unit. Its `acr` is its own development value (assurance.DEV_ACR), which the
portal accepts only outside production. It requires PKCE (S256) and a
nonce, and sends the RFC 9207 `iss` response parameter.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.stores.base import Store
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from portal.auth.assurance import DEV_ACR
from portal.auth.oidc import FI_ID_CLAIM, SE_COORDINATION_CLAIM, SE_ID_CLAIM
from portal.config import Settings
from portal.people.models import Person, StaffMember, Unit
from portal.people.national_id import is_coordination_number

CODE_TTL = 120


def load_or_create_key(path: str) -> RSAKey:
    """The provider's RS256 signing key (a private JWK in the JSON file at `path`), made
    on first use. Every process that shares the file signs with the same key: when
    several start at once (uvicorn workers, two instances), the first to link its new
    file in place wins and the others read that one (os.link fails on an existing name,
    unlike a rename). Raises OSError when the folder cannot be written."""
    file = Path(path)
    if not file.exists():
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True)
        key.ensure_kid()
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
        try:
            with os.fdopen(fd, "w") as out:  # mkstemp: readable by the owner only
                out.write(json.dumps(key.as_dict(private=True)))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, file)
        finally:
            os.unlink(tmp)
    return RSAKey.import_key(json.loads(file.read_text()))


class DevProvider:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.issuer = settings.dev_issuer
        self.key = load_or_create_key(settings.dev_idp_key_file)
        self.key.ensure_kid()
        base = settings.base_url
        self.clients = {
            c.client_id: {
                "secret": c.client_secret,
                "kind": c.name,
                "redirect_uris": {f"{base}/auth/callback/{c.name}"},
                "post_logout_redirect_uris": {f"{base}/utloggad"},
            }
            for c in (settings.client("citizen"), settings.client("staff"))
        }

    def subject(self, kind: str, stable: str) -> str:
        digest = hmac.new(self.settings.secret_key.encode(), f"{kind}:{stable}".encode(),
                          hashlib.sha256).hexdigest()
        return digest[:32]

    def sign(self, claims: dict) -> str:
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key)


def _error_page(status: int, message: str) -> Template:
    return Template("dev_idp/error.html", context={"message": message}, status_code=status)


def _check_authorize(provider: DevProvider, params: dict) -> tuple[dict | None, Template | None]:
    client = provider.clients.get(params.get("client_id") or "")
    if client is None or params.get("redirect_uri") not in client["redirect_uris"]:
        return None, _error_page(400, "invalid_client_or_redirect_uri")
    if params.get("response_type") != "code":
        return None, _error_page(400, "unsupported_response_type")
    if "openid" not in (params.get("scope") or "").split():
        return None, _error_page(400, "invalid_scope")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return None, _error_page(400, "pkce_required")
    if not params.get("nonce") or not params.get("state"):
        return None, _error_page(400, "nonce_and_state_required")
    return client, None


AUTH_PARAMS = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
               "code_challenge", "code_challenge_method", "max_age", "prompt", "acr_values",
               "ui_locales")


@get("/.well-known/openid-configuration", sync_to_thread=False)
def discovery(dev_provider: NamedDependency[DevProvider]) -> dict:
    issuer = dev_provider.issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/end-session",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile"],
        "claims_supported": ["sub", "name", "given_name", "family_name", "acr", "auth_time",
                             SE_ID_CLAIM, SE_COORDINATION_CLAIM, FI_ID_CLAIM, "employee_id", "unit"],
        "acr_values_supported": [DEV_ACR],
        "authorization_response_iss_parameter_supported": True,
    }


@get("/jwks", sync_to_thread=False)
def jwks(dev_provider: NamedDependency[DevProvider]) -> dict:
    return {"keys": [dev_provider.key.as_dict(private=False)]}


@get("/authorize")
async def authorize_page(request: Request, dev_provider: NamedDependency[DevProvider], db: NamedDependency[AsyncSession]) -> Template:
    params = {k: request.query_params.get(k) for k in AUTH_PARAMS}
    client, error = _check_authorize(dev_provider, params)
    if error:
        return error
    context = {"params": {k: v for k, v in params.items() if v}, "kind": client["kind"]}
    # OIDC's login_hint, here a person's or staff member's id: the page offers only them.
    # The benchmark logs in generated people this way; without it, a database of 100 000
    # generated persons would make a page with 100 000 buttons.
    hint = request.query_params.get("login_hint")
    if client["kind"] == "staff":
        query = select(StaffMember, Unit).join(Unit).order_by(Unit.country, StaffMember.given_name)
        if hint:
            query = query.where(StaffMember.id == hint)
        context["staff"] = (await db.exec(query)).all()
    else:
        query = select(Person).order_by(Person.country, Person.given_name)
        if hint:
            query = query.where(Person.id == hint)
        context["people"] = (await db.exec(query)).all()
    return Template("dev_idp/authorize.html", context=context)


@post("/authorize")
async def authorize_choose(request: Request, dev_provider: NamedDependency[DevProvider], db: NamedDependency[AsyncSession]) -> Response:
    form = await request.form()
    params = {k: form.get(k) for k in AUTH_PARAMS}
    client, error = _check_authorize(dev_provider, params)
    if error:
        return error
    target = params["redirect_uri"]
    if form.get("action") == "cancel":
        query = urlencode({"error": "access_denied", "state": params["state"],
                           "iss": dev_provider.issuer})
        return Redirect(f"{target}?{query}", status_code=303)
    chosen = form.get("who") or ""
    now = int(time.time())
    if client["kind"] == "staff":
        staff = await db.get(StaffMember, chosen)
        if staff is None:
            return _error_page(400, "unknown_user")
        unit = await db.get(Unit, staff.unit_id)
        claims = {
            "sub": dev_provider.subject("staff", staff.employee_id),
            "given_name": staff.given_name, "family_name": staff.family_name,
            "name": staff.name, "employee_id": staff.employee_id, "unit": unit.code,
            "acr": DEV_ACR,
        }
    else:
        person = await db.get(Person, chosen)
        if person is None:
            return _error_page(400, "unknown_user")
        claims = {
            "sub": dev_provider.subject("person", person.national_id),
            "given_name": person.given_name, "family_name": person.family_name,
            "name": person.name, "acr": DEV_ACR,
        }
        if person.country == "FI":
            claims[FI_ID_CLAIM] = person.national_id
        elif is_coordination_number(person.national_id, "SE"):
            claims[SE_COORDINATION_CLAIM] = person.national_id
        else:
            claims[SE_ID_CLAIM] = person.national_id
    claims["auth_time"] = now
    code = secrets.token_urlsafe(32)
    record = {
        "client_id": params["client_id"], "redirect_uri": target, "nonce": params["nonce"],
        "code_challenge": params["code_challenge"], "claims": claims,
    }
    await dev_provider.store.set(f"devidp:code:{code}", json.dumps(record), expires_in=CODE_TTL)
    query = urlencode({"code": code, "state": params["state"], "iss": dev_provider.issuer})
    return Redirect(f"{target}?{query}", status_code=303)


def _token_error(error: str, status: int = 400) -> Response:
    return Response({"error": error}, status_code=status,
                    headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _client_credentials(request: Request, form) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None, None
        from urllib.parse import unquote

        client_id, _, secret = raw.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id"), form.get("client_secret")


@post("/token", opt={"csrf_exempt": True})
async def token(request: Request, dev_provider: NamedDependency[DevProvider]) -> Response:
    form = await request.form()
    client_id, secret = _client_credentials(request, form)
    client = dev_provider.clients.get(client_id or "")
    if client is None or not hmac.compare_digest(client["secret"], secret or ""):
        return _token_error("invalid_client", 401)
    if form.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type")
    code = form.get("code") or ""
    key = f"devidp:code:{code}"
    raw = await dev_provider.store.get(key)
    await dev_provider.store.delete(key)  # single use, also when the request is wrong
    if raw is None:
        return _token_error("invalid_grant")
    record = json.loads(raw)
    if record["client_id"] != client_id or record["redirect_uri"] != form.get("redirect_uri"):
        return _token_error("invalid_grant")
    verifier = form.get("code_verifier") or ""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    if not verifier or not hmac.compare_digest(challenge.decode(), record["code_challenge"]):
        return _token_error("invalid_grant")
    now = int(time.time())
    claims = dict(record["claims"], iss=dev_provider.issuer, aud=client_id, iat=now,
                  exp=now + 300, nonce=record["nonce"])
    return Response(
        {"access_token": secrets.token_urlsafe(32), "token_type": "Bearer", "expires_in": 300,
         "id_token": dev_provider.sign(claims), "scope": "openid profile"},
        status_code=200,  # RFC 6749 5.1 (a POST handler would answer 201)
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@get("/end-session")
async def end_session(
    dev_provider: NamedDependency[DevProvider],
    post_logout_redirect_uri: Annotated[str | None, QueryParameter(name="post_logout_redirect_uri")] = None,
    client_id: Annotated[str | None, QueryParameter(name="client_id")] = None,
) -> Response:
    client = dev_provider.clients.get(client_id or "")
    if client and post_logout_redirect_uri in client["post_logout_redirect_uris"]:
        return Redirect(post_logout_redirect_uri, status_code=303)
    return _error_page(400, "invalid_post_logout_redirect_uri")


def make_router(provider: DevProvider) -> Router:
    async def provide() -> DevProvider:
        return provider

    from litestar.di import Provide

    return Router(
        path="/dev-idp",
        route_handlers=[discovery, jwks, authorize_page, authorize_choose, token, end_session],
        dependencies={"dev_provider": Provide(provide)},
        include_in_schema=False,
    )


