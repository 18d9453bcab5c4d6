"""Settings from the environment, with safe defaults for local use.

Production (`PORTAL_ENV=production`) refuses to start with development
defaults: the development secret key, the development identity provider,
or SQLite unless `PORTAL_ALLOW_SQLITE=1` says so explicitly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from portal.auth.assurance import CITIZEN_DEFAULT, DEV_ACR, STAFF_DEFAULT

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "development-only-secret-key-change-me"


# deploy/example.env's placeholders begin so; production refuses them (a public secret).
PLACEHOLDER = "replace-with"


class ConfigError(RuntimeError):
    """The settings are not safe for the environment they run in."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class OIDCClient:
    """One relying-party configuration (citizen or staff login).

    accepted_acr: the `acr` values (URIs) whose ID tokens this login accepts;
    any other level, or none, is refused (portal/auth/assurance.py, README).
    acr_values: what the authorization request asks for (space-separated), if anything.
    """

    name: str
    issuer: str
    client_id: str
    client_secret: str
    scope: str = "openid profile"
    acr_values: str = ""
    accepted_acr: tuple[str, ...] = CITIZEN_DEFAULT


@dataclass(frozen=True)
class AgeRules:
    """Age limits per country code, in whole years (configuration, see the README).

    guardian_until: a guardian uses the e-service for a child until this age
    (Sweden 13: 1177 practice; Finland 18: MittKanta practice).
    child_view_from: from this age the consent page asks guardians to hear the
    child's own view (Sweden 10, Finland 12: staff assess maturity from about then).
    """

    guardian_until: tuple[tuple[str, int], ...] = (("SE", 13), ("FI", 18))
    child_view_from: tuple[tuple[str, int], ...] = (("SE", 10), ("FI", 12))

    def guardian_age_limit(self, country: str) -> int:
        return dict(self.guardian_until).get(country, 18)

    def child_view_age(self, country: str) -> int:
        return dict(self.child_view_from).get(country, 12)


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    country: str = "SE"
    base_url: str = "http://127.0.0.1:8000"
    port: int = 8000
    secret_key: str = DEV_SECRET
    database_url: str = f"sqlite:///{ROOT / 'var' / 'portal.db'}"
    allow_sqlite: bool = False
    redis_url: str = ""
    session_dir: str = str(ROOT / "var" / "sessions")
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    idle_timeout: int = 20 * 60
    idle_warning: int = 2 * 60
    # Seconds: an unchanged signed-in session's activity time is written at most this
    # often, so a session ends up to this much after idle_timeout (portal.auth.sessions).
    session_seen_precision: int = 30
    # Rendered key pages kept per session in each process (portal.core.page_cache): at most
    # this many seconds, and only while nothing they show has changed (data versions);
    # 0 turns the cache off. How many pages each process keeps.
    page_cache_seconds: int = 60
    page_cache_entries: int = 2000
    # Seconds: the same unchanged page seen again by the same staff member or
    # representative within this time is one access in the person's log (the first).
    access_log_repeat: int = 300
    absolute_timeout: int = 8 * 60 * 60
    reauth_max_age: int = 5 * 60
    login_rate_limit: int = 20  # callbacks per client address and minute
    # FHIR API (portal.fhir): calls per registered client and minute, and token requests
    # per registered client and minute (SMART Backend Services: a token lasts 5 minutes).
    fhir_rate_limit: int = 600
    fhir_token_rate_limit: int = 30
    dev_idp: bool = True
    dev_idp_key_file: str = str(ROOT / "var" / "dev-idp-key.json")
    citizen: OIDCClient = field(default_factory=lambda: OIDCClient(
        "citizen", "", "portal-citizen", "dev-citizen-secret"))
    staff: OIDCClient = field(default_factory=lambda: OIDCClient(
        "staff", "", "portal-staff", "dev-staff-secret", accepted_acr=STAFF_DEFAULT))
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "SIP-portalen <noreply@sip-portal.invalid>"
    # SMS through 46elks' HTTP API (portal/notices/sms.py); an empty URL means no SMS.
    sms_url: str = ""
    sms_user: str = ""
    sms_password: str = ""
    sms_sender: str = "SIPportal"
    # Each app process sends the outbox in the background (portal.notices.outbox.run_worker);
    # off where something else sends it (a test that drives deliver_due itself).
    outbox_worker: bool = True
    # Seconds between the worker's rounds (a round sends what is due, at most 50 notices).
    outbox_interval: float = 5.0
    age_rules: AgeRules = field(default_factory=AgeRules)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sms_enabled(self) -> bool:
        """Whether notices may go by SMS (a provider is configured)."""
        return bool(self.sms_url)

    @property
    def default_locale(self) -> str:
        return "sv_FI" if self.country == "FI" else "sv"

    @property
    def dev_issuer(self) -> str:
        return f"{self.base_url}/dev-idp"

    def client(self, name: str) -> OIDCClient:
        """The login `name` ('citizen' or 'staff') as the app uses it: outside production
        the development provider stands in for a missing issuer and its `acr` is accepted."""
        client = self.citizen if name == "citizen" else self.staff
        if not client.issuer:
            client = replace(client, issuer=self.dev_issuer)
        if not self.production and DEV_ACR not in client.accepted_acr:
            client = replace(client, accepted_acr=(*client.accepted_acr, DEV_ACR))
        return client

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def check(self) -> Settings:
        if self.country not in {"SE", "FI"}:
            raise ConfigError("PORTAL_COUNTRY must be SE or FI")
        if not 0.1 <= self.outbox_interval <= 3600:
            raise ConfigError("PORTAL_OUTBOX_INTERVAL must be between 0.1 and 3600 seconds")
        if self.idle_warning <= 0 or self.idle_timeout <= 0:
            raise ConfigError("the idle timeout and its warning must be positive (seconds)")
        for country, age in (*self.age_rules.guardian_until, *self.age_rules.child_view_from):
            if not 0 <= age <= 18:
                raise ConfigError(f"age limits must be between 0 and 18 (got {age} for {country})")
        for client in (self.citizen, self.staff):
            if not client.accepted_acr:
                raise ConfigError(f"PORTAL_{client.name.upper()}_ACCEPTED_ACR lists no level of assurance")
        if self.sms_url:
            from portal.notices.sms import SENDER

            if not SENDER.fullmatch(self.sms_sender):
                raise ConfigError("PORTAL_SMS_SENDER must be 3-11 letters and digits starting with "
                                  "a letter, or a phone number such as +46701234567")
            if not self.sms_url.startswith(("https://", "http://")):
                raise ConfigError("PORTAL_SMS_URL must be an http(s) address")
            if not (self.sms_user and self.sms_password):
                raise ConfigError("PORTAL_SMS_URL needs PORTAL_SMS_USER and PORTAL_SMS_PASSWORD")
        if self.production:
            problems = []
            if self.sms_url and not self.sms_url.startswith("https://"):
                problems.append("PORTAL_SMS_URL must use https in production")
            if self.secret_key == DEV_SECRET or len(self.secret_key) < 32:
                problems.append("PORTAL_SECRET_KEY must be set to 32 or more random characters")
            if self.dev_idp:
                problems.append("the development identity provider must be off (PORTAL_DEV_IDP=0)")
            if self.database_url.startswith("sqlite") and not self.allow_sqlite:
                problems.append("SQLite needs PORTAL_ALLOW_SQLITE=1 in production")
            for client in (self.citizen, self.staff):
                if not client.issuer or "/dev-idp" in client.issuer:
                    problems.append(f"the {client.name} login needs a real issuer")
                if client.client_secret.startswith("dev-"):
                    problems.append(f"the {client.name} login needs its own client secret")
                if DEV_ACR in client.accepted_acr:
                    problems.append(f"the {client.name} login must not accept the development level {DEV_ACR}")
            if not self.base_url.startswith("https://"):
                problems.append("PORTAL_BASE_URL must use https in production")
            placeholders = [name for name, value in (
                ("PORTAL_SECRET_KEY", self.secret_key),
                ("PORTAL_DATABASE_URL", self.database_url),
                ("PORTAL_CITIZEN_CLIENT_SECRET", self.citizen.client_secret),
                ("PORTAL_STAFF_CLIENT_SECRET", self.staff.client_secret),
                ("PORTAL_SMS_PASSWORD", self.sms_password or "")) if PLACEHOLDER in value]
            if placeholders:
                problems.append(f"{', '.join(placeholders)} still hold the example's placeholder "
                                f"({PLACEHOLDER}…): deploy/example.env is public")
            if problems:
                raise ConfigError("Refusing to start in production: " + "; ".join(problems))
        return self


def from_env(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    get = env.get
    mode = get("PORTAL_ENV", "development")
    port = int(get("PORTAL_PORT", "8000"))
    base_url = get("PORTAL_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/")
    defaults = Settings()
    settings = Settings(
        env=mode,
        country=get("PORTAL_COUNTRY", "SE").upper(),
        base_url=base_url,
        port=port,
        secret_key=get("PORTAL_SECRET_KEY", DEV_SECRET),
        database_url=get("PORTAL_DATABASE_URL", defaults.database_url),
        allow_sqlite=_bool(get("PORTAL_ALLOW_SQLITE")),
        redis_url=get("PORTAL_REDIS_URL", ""),
        session_dir=get("PORTAL_SESSION_DIR", defaults.session_dir),
        allowed_hosts=_list(get("PORTAL_ALLOWED_HOSTS"), defaults.allowed_hosts),
        idle_timeout=int(get("PORTAL_IDLE_TIMEOUT", defaults.idle_timeout)),
        idle_warning=int(get("PORTAL_IDLE_WARNING", defaults.idle_warning)),
        absolute_timeout=int(get("PORTAL_ABSOLUTE_TIMEOUT", defaults.absolute_timeout)),
        page_cache_seconds=int(get("PORTAL_PAGE_CACHE_SECONDS", defaults.page_cache_seconds)),
        page_cache_entries=int(get("PORTAL_PAGE_CACHE_ENTRIES", defaults.page_cache_entries)),
        access_log_repeat=int(get("PORTAL_ACCESS_LOG_REPEAT", defaults.access_log_repeat)),
        fhir_rate_limit=int(get("PORTAL_FHIR_RATE_LIMIT", defaults.fhir_rate_limit)),
        fhir_token_rate_limit=int(get("PORTAL_FHIR_TOKEN_RATE_LIMIT",
                                      defaults.fhir_token_rate_limit)),
        dev_idp=_bool(get("PORTAL_DEV_IDP"), default=mode != "production"),
        dev_idp_key_file=get("PORTAL_DEV_IDP_KEY_FILE", defaults.dev_idp_key_file),
        citizen=OIDCClient(
            "citizen",
            get("PORTAL_CITIZEN_ISSUER", ""),
            get("PORTAL_CITIZEN_CLIENT_ID", "portal-citizen"),
            get("PORTAL_CITIZEN_CLIENT_SECRET", "dev-citizen-secret"),
            acr_values=get("PORTAL_CITIZEN_ACR_VALUES", ""),
            accepted_acr=_list(get("PORTAL_CITIZEN_ACCEPTED_ACR"), CITIZEN_DEFAULT),
        ),
        staff=OIDCClient(
            "staff",
            get("PORTAL_STAFF_ISSUER", ""),
            get("PORTAL_STAFF_CLIENT_ID", "portal-staff"),
            get("PORTAL_STAFF_CLIENT_SECRET", "dev-staff-secret"),
            acr_values=get("PORTAL_STAFF_ACR_VALUES", ""),
            accepted_acr=_list(get("PORTAL_STAFF_ACCEPTED_ACR"), STAFF_DEFAULT),
        ),
        smtp_host=get("PORTAL_SMTP_HOST", ""),
        smtp_port=int(get("PORTAL_SMTP_PORT", "25")),
        mail_from=get("PORTAL_MAIL_FROM", defaults.mail_from),
        sms_url=get("PORTAL_SMS_URL", "").rstrip("/"),
        sms_user=get("PORTAL_SMS_USER", ""),
        sms_password=get("PORTAL_SMS_PASSWORD", ""),
        sms_sender=get("PORTAL_SMS_SENDER", defaults.sms_sender),
        outbox_worker=_bool(get("PORTAL_OUTBOX_WORKER"), defaults.outbox_worker),
        outbox_interval=float(get("PORTAL_OUTBOX_INTERVAL", defaults.outbox_interval)),
        age_rules=AgeRules(
            guardian_until=tuple((c, int(get(f"PORTAL_GUARDIAN_AGE_LIMIT_{c}", age)))
                                 for c, age in defaults.age_rules.guardian_until),
            child_view_from=tuple((c, int(get(f"PORTAL_CHILD_VIEW_FROM_{c}", age)))
                                  for c, age in defaults.age_rules.child_view_from),
        ),
    )
    return settings.check()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return from_env()
