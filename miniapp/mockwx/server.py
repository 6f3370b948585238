"""The OpenID Connect side of the mock provider, on Authlib's OAuth 2 server."""

import time

from authlib.integrations.django_oauth2 import AuthorizationServer, BearerTokenValidator, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, UnsupportedResponseTypeError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode as _OpenIDCode

from miniapp.mockwx import services
from miniapp.mockwx.models import OIDC, AuthorizationCode, Client, Token


class RequiredCodeChallenge(CodeChallenge):
    """PKCE with S256 for every client; Authlib alone requires it for public clients only."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload.data
        if not payload.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with code_challenge_method=S256.")
        if payload.get("code_challenge_method", "plain") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @staticmethod
    def validate_authorization_redirect_uri(request, client):
        # Authlib's own puts the URI in the error description, and then refuses the
        # description when the URI holds a character RFC 6749 keeps out of one (", \,
        # non-ASCII, a TAB or a line break): a ValueError, a 500. Same check, fixed words.
        redirect_uri = request.payload.redirect_uri
        if not redirect_uri:
            return grants.AuthorizationCodeGrant.validate_authorization_redirect_uri(request, client)
        if not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError(
                "This redirect_uri is not registered for the client: it must be exactly one of the "
                "client's registered redirect URIs."
            )
        return redirect_uri

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        services.code_create(
            code=code,
            client=request.client,
            identity=request.user,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.scope,
            dialect=OIDC,
            nonce=payload.get("nonce", ""),
            code_challenge=payload.get("code_challenge", ""),
            code_challenge_method=payload.get("code_challenge_method", ""),
        )

    def query_authorization_code(self, code, client):
        try:
            return services.code_redeem(code=code, client=client, dialect=OIDC)
        except services.CodeRefused:
            return None

    def delete_authorization_code(self, authorization_code):
        # Already claimed in query_authorization_code; the row stays so that a
        # replay can be recognised and the tokens it issued revoked.
        pass

    def authenticate_user(self, authorization_code):
        return authorization_code.identity


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        # self.request.client is the authenticated client: only its own tokens count.
        return services.token_for_refresh(refresh_token=refresh_token, client=self.request.client)

    def authenticate_user(self, refresh_token):
        return refresh_token.identity

    def revoke_old_credential(self, refresh_token):
        # After the new token is saved: a refresh that fails (a wrong scope) keeps the old one.
        if not services.token_rotate(token=refresh_token):
            raise InvalidGrantError("The refresh token was used already: its tokens are revoked.")


class OpenIDCode(_OpenIDCode):
    def resolve_client_private_key(self, client):
        return services.signing_key()[1]

    def get_client_claims(self, client):
        return {"iss": services.issuer(), "aud": [client.client_id], "exp": int(time.time()) + 3600}

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": services.signing_key()[0]}

    def get_client_algorithm(self, client):
        return "RS256"

    def exists_nonce(self, nonce, request):
        if "\x00" in nonce:  # stored with the code, and PostgreSQL text holds no NUL
            raise InvalidRequestError("The nonce cannot contain the NUL character (U+0000).")
        return AuthorizationCode.objects.filter(client__client_id=request.payload.client_id, nonce=nonce).exists()

    def get_compatible_claims(self, request):
        claims = super().get_compatible_claims(request)
        # The pairwise `sub` depends on the client, which generate_user_info is not given.
        claims["sub"] = services.openid_for(client=request.client, identity=request.user)
        return claims

    def generate_user_info(self, user, scope):
        if "profile" not in scope.split():
            return {}
        return services.identity_claims(user)


class ResponseTypeRefused(UnsupportedResponseTypeError):
    def get_error_description(self):
        return "Only response_type=code is supported."


class MockwxServer(AuthorizationServer):
    def query_client(self, client_id):
        return services.client_by_id(client_id)

    def get_authorization_grant(self, request):
        """Authlib's, but with a description of our own when the response_type is not `code`:
        Authlib's carries the requested value (two arguments swapped), and one with ", \\ or
        non-ASCII, which a description may not hold, made a ValueError (a 500)."""
        if AuthorizationCodeGrant.check_authorization_endpoint(request):
            return super().get_authorization_grant(request)
        # Sent back to the client only once its redirect URI is known to be registered.
        client = self.query_client(request.payload.client_id or "")
        requested = request.payload.redirect_uri
        redirect_uri = None
        if client is not None and not requested:
            redirect_uri = client.get_default_redirect_uri()
        elif client is not None and client.check_redirect_uri(requested):
            redirect_uri = requested
        raise ResponseTypeRefused(request.payload.response_type, redirect_uri=redirect_uri)

    def save_token(self, token, request):
        Token.objects.create(
            client=request.client,
            identity=request.user,
            # A refreshed token stays in the family of the code its predecessor came from.
            code=request.authorization_code or getattr(request.refresh_token, "code", None),
            dialect=OIDC,
            token_type=token["token_type"],
            access_token=token["access_token"],
            refresh_token=token.get("refresh_token"),
            scope=token.get("scope", ""),
            issued_at=int(time.time()),
            expires_in=token["expires_in"],
        )


server = MockwxServer(Client, Token)
server.register_grant(AuthorizationCodeGrant, [RequiredCodeChallenge(), OpenIDCode(require_nonce=False)])
server.register_grant(RefreshTokenGrant)


class TokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return services.token_by_access(access_token=token_string, dialect=OIDC)


require_oauth = ResourceProtector()
require_oauth.register_token_validator(TokenValidator(Token))
