"""Writes and lookups of the mock provider, shared by both dialects."""

import base64
import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from joserfc.jwk import RSAKey

from miniapp.mockwx.models import AuthorizationCode, Client, Identity, SigningKey, Token

REFRESH_TTL = 30 * 24 * 3600


def issuer() -> str:
    return f"{settings.SITE_URL}/mockwx"


PAIRWISE_PREFIX = {"openid": "o", "gid": "G"}


def pairwise_id(*, kind: str, client: Client, key: str) -> str:
    """`key`'s id for one client: stable, and different per client. Derived, not stored:
    HMAC(SECRET_KEY, kind|client_id|key), 28 characters starting with `kind`'s letter, as
    WeChat's OpenIDs ("o…") and openGIds ("G…") look."""
    message = f"{client.client_id}|{key}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), f"mockwx.{kind}:".encode() + message, hashlib.sha256).digest()
    return PAIRWISE_PREFIX[kind] + base64.urlsafe_b64encode(digest).decode()[:27]


def openid_for(*, client: Client, identity: Identity) -> str:
    """The identity's pairwise id for one client (`pairwise_id`)."""
    return pairwise_id(kind="openid", client=client, key=identity.unionid)


def avatar_url(identity: Identity) -> str:
    return f"{issuer()}/avatar/{identity.unionid}.svg"


def identity_claims(identity: Identity) -> dict:
    return {
        "name": identity.nickname,
        "nickname": identity.nickname,
        "preferred_username": identity.nickname,
        "picture": avatar_url(identity),
        "unionid": identity.unionid,
    }


def profile_claims(*, client: Client, identity: Identity) -> dict:
    return {"sub": openid_for(client=client, identity=identity), **identity_claims(identity)}


def person_claims(*, client: Client, identity: Identity) -> dict:
    """Someone else as a list of friends or a group's members shows them to `client`."""
    return {
        "sub": openid_for(client=client, identity=identity),
        "nickname": identity.nickname,
        "picture": avatar_url(identity),
    }


def friends_claims(*, client: Client, identity: Identity) -> list[dict]:
    return [person_claims(client=client, identity=friend) for friend in identity.friends.order_by("pk")]


def matches_nothing(value: str) -> bool:
    """True for a value no row can hold. PostgreSQL text has no NUL, and a query with one
    fails (DataError, a 500) instead of finding nothing: request values with NUL are looked
    up here as what they are, unknown."""
    return "\x00" in value


def client_by_id(client_id: str) -> Client | None:
    if matches_nothing(client_id):
        return None
    return Client.objects.filter(client_id=client_id).first()


def identity_by_unionid(unionid: str) -> Identity | None:
    if matches_nothing(unionid):
        return None
    return Identity.objects.filter(unionid=unionid).first()


def identity_get_or_create(*, nickname: str) -> Identity:
    """The identity called `nickname`, created if new. The nickname must be one the persona
    page accepts (`forms.NicknameField`); anything else is refused here rather than stored.
    Concurrent calls for one new nickname make one identity (the unique nickname decides)."""
    Identity(nickname=nickname).clean_fields(exclude=["unionid", "created"])
    identity, _ = Identity.objects.get_or_create(nickname=nickname)
    return identity


@transaction.atomic
def client_register(
    *, name: str, redirect_uris: list[str], client_id: str = "", secret: str = ""
) -> tuple[Client, str]:
    """Create the client `name`, or update it: new redirect URIs, new secret.

    Returns the client and its secret in clear, which is shown once and never stored.
    """
    secret = secret or secrets.token_urlsafe(32)
    client = Client.objects.filter(name=name).first() or Client(name=name)
    if client_id:
        client.client_id = client_id
    client.redirect_uris = "\n".join(dict.fromkeys(redirect_uris))
    client.set_secret(secret)
    client.full_clean()
    client.save()
    return client, secret


_parsed_keys: dict[str, RSAKey] = {}


def signing_key() -> tuple[str, RSAKey]:
    """The current signing key (kid, key), created on first use and kept in the database.

    Parsed keys are kept per kid: parsing the PEM costs more than the rest of a token call,
    and a token needs the key twice.
    """
    row = SigningKey.objects.only("kid").first()
    if row is None:
        key = RSAKey.generate_key(2048, private=True)
        kid = key.thumbprint()
        row, _ = SigningKey.objects.get_or_create(kid=kid, defaults={"private_pem": key.as_pem(private=True).decode()})
    if row.kid not in _parsed_keys:
        pem = SigningKey.objects.values_list("private_pem", flat=True).get(kid=row.kid)
        _parsed_keys[row.kid] = RSAKey.import_key(pem)
    return row.kid, _parsed_keys[row.kid]


def jwks() -> dict:
    keys = []
    for row in SigningKey.objects.all():
        public = RSAKey.import_key(row.private_pem).as_dict(private=False)
        keys.append({**public, "kid": row.kid, "use": "sig", "alg": "RS256"})
    return {"keys": keys}


def code_create(
    *,
    code: str = "",
    client: Client,
    identity: Identity,
    redirect_uri: str,
    scope: str,
    dialect: str,
    nonce: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> AuthorizationCode:
    return AuthorizationCode.objects.create(
        code=code or secrets.token_urlsafe(32),
        client=client,
        identity=identity,
        dialect=dialect,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        auth_time=int(time.time()),
        expires_at=timezone.now() + timedelta(seconds=settings.MOCKWX_CODE_TTL),
    )


class CodeRefused(Exception):
    def __init__(self, reason: str):
        self.reason = reason  # "invalid", "expired" or "used"
        super().__init__(reason)


def code_redeem(*, code: str, client: Client, dialect: str) -> AuthorizationCode:
    """Claim a code once. A second attempt revokes every token the code gave.

    The claim is one conditional UPDATE, so of two concurrent redemptions exactly
    one wins, on SQLite and PostgreSQL alike.
    """
    if matches_nothing(code):
        raise CodeRefused("invalid")
    now = timezone.now()
    codes = AuthorizationCode.objects.filter(code=code, client=client, dialect=dialect)
    if codes.filter(used_at__isnull=True, expires_at__gt=now).update(used_at=now):
        return codes.get()
    found = codes.first()
    if found is None:
        raise CodeRefused("invalid")
    if found.used_at is not None:
        token_family_revoke(code=found)
        raise CodeRefused("used")
    raise CodeRefused("expired")


def token_family_revoke(*, code: AuthorizationCode | None) -> None:
    """Revoke every token descended from `code`: the one issued for it and each one refreshed
    from that, however many generations on. The mark on the code also voids a token of the
    family that is saved later (`Token.is_revoked`)."""
    if code is None:  # a token refreshed before tokens carried their family
        return
    AuthorizationCode.objects.filter(pk=code.pk).update(family_revoked_at=timezone.now())
    Token.objects.filter(code=code).update(revoked=True)


def token_by_access(*, access_token: str, dialect: str) -> Token | None:
    if matches_nothing(access_token):
        return None
    return (
        Token.objects.filter(access_token=access_token, dialect=dialect)
        .select_related("client", "identity", "code")
        .first()
    )


def token_create(
    *, client: Client, identity: Identity, scope: str, dialect: str, code: AuthorizationCode | None = None
) -> Token:
    return Token.objects.create(
        client=client,
        identity=identity,
        code=code,
        dialect=dialect,
        access_token=secrets.token_urlsafe(32),
        refresh_token=secrets.token_urlsafe(36),
        scope=scope,
        issued_at=int(time.time()),
        expires_in=settings.MOCKWX_TOKEN_TTL,
    )


def token_by_refresh(*, refresh_token: str, client: Client | None = None) -> Token | None:
    if matches_nothing(refresh_token):
        return None
    token = Token.objects.filter(refresh_token=refresh_token).select_related("client", "identity", "code").first()
    if token is None or token.is_revoked() or token.issued_at + REFRESH_TTL < time.time():
        return None
    if client is not None and token.client_id != client.pk:
        return None
    return token


def token_for_refresh(*, refresh_token: str, client: Client) -> Token | None:
    """The live token `refresh_token` belongs to, for a refresh by `client` (OIDC, rotating).

    A refresh token that was rotated away already and comes again was copied: its whole
    family is revoked, the holder of the newest token included, and None is returned.
    """
    token = (
        None
        if matches_nothing(refresh_token)
        else Token.objects.filter(refresh_token=refresh_token).select_related("client", "identity", "code").first()
    )
    if token is None or token.client_id != client.pk:
        return None
    if token.revoked:
        token_family_revoke(code=token.code)
        return None
    if token.is_revoked() or token.issued_at + REFRESH_TTL < time.time():
        return None
    return token


def token_rotate(*, token: Token) -> bool:
    """Retire `token` now that a new one was issued from it. One conditional UPDATE: of two
    refreshes racing with one refresh token, one retires it; the other (False) is a reuse,
    and the family is revoked, the token just issued to the first included."""
    if Token.objects.filter(pk=token.pk, revoked=False).update(revoked=True):
        return True
    token_family_revoke(code=token.code)
    return False


def token_refresh_wechat(*, token: Token) -> Token:
    """WeChat keeps the refresh token and renews the access token in place."""
    token.access_token = secrets.token_urlsafe(32)
    token.issued_at = int(time.time())
    token.save(update_fields=["access_token", "issued_at"])
    return token


def discovery() -> dict:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "friends_endpoint": f"{base}/friends",
        "groups_endpoint": f"{base}/groups",
        "scopes_supported": ["openid", "profile", "friends", "groups"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "name",
            "nickname",
            "preferred_username",
            "picture",
            "unionid",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
    }


def avatar_svg(identity: Identity) -> str:
    """A round avatar with the nickname's first character, coloured by the unionid."""
    return letter_avatar_svg(identity.nickname, seed=identity.unionid)


def letter_avatar_svg(name: str, *, seed: str, rounded: bool = True) -> str:
    """An avatar with `name`'s first character, coloured by `seed`: round for a person, a
    rounded square for a group, as WeChat draws them."""
    from django.utils.html import escape

    hue = int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) % 360
    letter = escape(name[:1].upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">'
        f'<rect width="96" height="96" rx="{48 if rounded else 16}" fill="hsl({hue},55%,52%)"/>'
        f'<text x="48" y="62" font-size="44" text-anchor="middle" fill="#fff" '
        f'font-family="PingFang SC,Noto Sans CJK SC,sans-serif">{letter}</text></svg>'
    )
