"""The mock provider's own tables. None of them point at the app's users."""

import hashlib
import hmac
import secrets
import time

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from django.db import models
from django.utils import timezone

from miniapp.lib.text import validate_nickname, validate_one_line

OIDC = "oidc"
WECHAT = "wechat"
DIALECTS = [(OIDC, "OpenID Connect"), (WECHAT, "WeChat")]


def new_unionid() -> str:
    return "u" + secrets.token_urlsafe(21)


def new_group_key() -> str:
    return "g" + secrets.token_urlsafe(21)


def new_client_id() -> str:
    return "wx" + secrets.token_hex(8)


def hash_secret(secret: str) -> str:
    # Client secrets are long random strings, so a plain SHA-256 is enough and
    # keeps the token endpoint fast (a password hasher is slow on purpose, on every call).
    return hashlib.sha256(secret.encode()).hexdigest()


class Identity(models.Model):
    """A person on the mock provider, with their provider-side friends."""

    unionid = models.CharField(max_length=40, unique=True, default=new_unionid, editable=False)
    # The one rule for a nickname, typed on the persona page or given as `login_hint`
    # (forms.NicknameField brings it to NFC, then runs these validators) or in the admin.
    nickname = models.CharField(max_length=32, unique=True, validators=[validate_nickname])
    friends = models.ManyToManyField("self", symmetrical=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.nickname

    def get_user_id(self):
        return self.pk


# A WeChat group holds at most 500 people.
GROUP_MAX_MEMBERS = 500


class Group(models.Model):
    """A group chat on the provider (a WeChat 群): a name, an owner and its members. An app
    knows it only by a pairwise id (`groups.gid_for`, like WeChat's openGId) and through the
    `groups` endpoint; `key` never leaves the provider. Names are unique here so that
    `manage.py mockwx_group NAME` can find one (WeChat's are not)."""

    key = models.CharField(max_length=40, unique=True, default=new_group_key, editable=False)
    name = models.CharField(max_length=32, unique=True, validators=[validate_one_line])
    owner = models.ForeignKey(Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    members = models.ManyToManyField(Identity, related_name="groups", blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


class Client(ClientMixin, models.Model):
    """A confidential client (an "app" on the provider), with exact redirect URIs."""

    name = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=48, unique=True, default=new_client_id)
    secret_hash = models.CharField(max_length=64, editable=False)
    redirect_uris = models.TextField(help_text="One URI a line; matched exactly.")
    scope = models.CharField(max_length=200, default="openid profile friends groups snsapi_base snsapi_userinfo")
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def set_secret(self, secret: str) -> None:
        self.secret_hash = hash_secret(secret)

    @property
    def redirect_uri_list(self) -> list[str]:
        return [uri.strip() for uri in self.redirect_uris.splitlines() if uri.strip()]

    # Authlib's ClientMixin
    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        uris = self.redirect_uri_list
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.scope.split())
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uri_list

    def check_client_secret(self, client_secret):
        return bool(client_secret) and hmac.compare_digest(hash_secret(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        if endpoint == "token":
            return method in ("client_secret_basic", "client_secret_post")
        return True

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class AuthorizationCode(AuthorizationCodeMixin, models.Model):
    code = models.CharField(max_length=120, unique=True)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE)
    dialect = models.CharField(max_length=8, choices=DIALECTS, default=OIDC)
    redirect_uri = models.TextField()
    scope = models.TextField(blank=True)
    nonce = models.CharField(max_length=200, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    auth_time = models.IntegerField(default=time.time)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when the code is tried again, or a refresh token of its family is used again after
    # it was rotated: a copy is out there, and every token of the family is void from then on.
    family_revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.identity_id} at {self.client_id}"

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce or None

    def get_auth_time(self):
        return self.auth_time

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Token(TokenMixin, models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE)
    # The code the token's family started from: the token issued for it, and every token
    # refreshed from that one, carry it. (Empty only for tokens refreshed before families.)
    code = models.ForeignKey(AuthorizationCode, null=True, blank=True, on_delete=models.CASCADE)
    dialect = models.CharField(max_length=8, choices=DIALECTS, default=OIDC)
    token_type = models.CharField(max_length=40, default="Bearer")
    access_token = models.CharField(max_length=255, unique=True)
    refresh_token = models.CharField(max_length=255, unique=True, null=True, blank=True)
    scope = models.TextField(blank=True)
    issued_at = models.IntegerField(default=time.time)
    expires_in = models.IntegerField(default=0)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"token for {self.identity_id} at {self.client_id}"

    # Authlib's TokenMixin
    def check_client(self, client):
        return self.client_id == client.pk

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return self.issued_at + self.expires_in < time.time()

    def is_revoked(self):
        # Read from the code, so that a token saved after its family was revoked (a refresh
        # racing the replay) is void too.
        return self.revoked or (self.code is not None and self.code.family_revoked_at is not None)

    def get_user(self):
        return self.identity

    def get_client(self):
        return self.client


class SigningKey(models.Model):
    """The RSA key that signs id_tokens; kept so tokens verify across restarts."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.kid
