def test_it_describes_the_provider(client, settings, db):
    settings.SITE_URL = "http://testserver"
    response = client.get("/mockwx/.well-known/openid-configuration")
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"] == "http://testserver/mockwx"
    assert doc["authorization_endpoint"] == "http://testserver/mockwx/authorize"
    assert doc["friends_endpoint"] == "http://testserver/mockwx/friends"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "friends" in doc["scopes_supported"]


def test_jwks_keeps_one_persisted_key(client, db):
    first = client.get("/mockwx/jwks").json()
    second = client.get("/mockwx/jwks").json()
    assert first == second
    [key] = first["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]
    assert "d" not in key  # the private part never leaves the provider


def test_it_rejects_post_on_discovery(client, db):
    assert client.post("/mockwx/.well-known/openid-configuration").status_code == 405
