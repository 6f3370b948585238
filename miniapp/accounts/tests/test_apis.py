import pytest

pytestmark = pytest.mark.django_db


def test_me_works(client, users):
    client.force_login(users["alice"])
    response = client.get("/api/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "alice"
    assert body["id"] == users["alice"].pk
    assert body["avatar"].endswith(".svg")


def test_friends_lists_the_provider_friends(client, users):
    client.force_login(users["alice"])
    names = [f["name"] for f in client.get("/api/friends/").json()["friends"]]
    assert names == ["bob", "carol", "dave"]


def test_a_stranger_has_no_friends(client, users):
    client.force_login(users["erin"])
    assert client.get("/api/friends/").json() == {"friends": []}


@pytest.mark.parametrize("url", ["/api/me/", "/api/friends/"])
def test_anonymous_gets_403_with_a_sign_in_hint(client, url):
    response = client.get(url)
    assert response.status_code == 403
    assert response.json()["login_url"] == "/login/"
    assert "登录" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/api/me/", "/api/friends/"])
def test_it_rejects_post(client, users, url):
    client.force_login(users["alice"])
    assert client.post(url).status_code == 405


def test_english_is_one_header_away(client):
    response = client.get("/api/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["detail"].startswith("Sign in first")


def test_the_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/me/" in schema.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_the_schema_is_valid_and_generates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: e.g. two serializers that would share one component name and overwrite each other.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "ShareOutput" in schema and "FriendsOutput" in schema


def test_the_schema_documents_the_error_answers(client, db):
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    def answers(path, method):
        return set(paths[path][method]["responses"])

    assert answers("/api/me/", "get") == {"200", "403", "503"}
    assert answers("/api/videos/{video_id}/", "get") == {"200", "404", "503"}  # anyone may read
    assert answers("/api/videos/{video_id}/like/", "post") == {"200", "403", "404", "429", "503"}
    assert answers("/api/videos/{video_id}/like/", "delete") == {"200", "403", "404", "429", "503"}  # with a body
    assert answers("/api/videos/{video_id}/shares/", "post") == {
        "200", "201", "400", "403", "404", "413", "415", "429", "503",
    }  # fmt: skip
    assert answers("/api/videos/", "post") >= {"400", "403", "413", "429", "503"}
    unavailable = paths["/api/videos/{video_id}/like/"]["post"]["responses"]["503"]
    assert "Retry-After" in unavailable["headers"]
    throttled = paths["/api/videos/{video_id}/like/"]["post"]["responses"]["429"]
    assert throttled["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ThrottledError"}
    video_id = paths["/api/videos/{video_id}/"]["get"]["parameters"][0]
    assert video_id["schema"] == {"type": "integer", "minimum": 1}


def test_an_unknown_api_url_is_a_json_404(client, db):
    response = client.get("/api/videos/abc/")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
