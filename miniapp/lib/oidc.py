"""django-allauth configuration for one OpenID Connect provider."""


def socialaccount_providers(
    *, provider_id: str, name: str, issuer: str, client_id: str, secret: str, scopes: list[str]
) -> dict:
    """The `SOCIALACCOUNT_PROVIDERS` value that points allauth at `issuer`.

    Everything else (endpoints, keys) comes from the issuer's discovery document,
    so any OIDC provider works by settings alone.
    """
    if not client_id:
        return {}
    return {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": provider_id,
                    "name": name,
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {
                        "server_url": issuer,
                        "token_auth_method": "client_secret_basic",
                        "fetch_userinfo": True,
                        "oauth_pkce_enabled": True,
                        "scope": scopes,
                    },
                }
            ],
        }
    }
