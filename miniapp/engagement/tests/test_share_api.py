import pytest

from miniapp.engagement.models import Activity, ShareLink
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="老王的葡萄")


def share(client, video, **payload):
    return client.post(f"/api/videos/{video.pk}/shares/", payload, content_type="application/json")


def test_a_share_to_friends_reaches_each_of_them_live_with_the_note(
    client, users, video, pushed, django_capture_on_commit_callbacks
):
    client.force_login(users["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        response = share(client, video, to=[users["bob"].pk, users["carol"].pk], note="  这是我们村的老王  ")
    assert response.status_code == 201
    body = response.json()
    link = ShareLink.objects.get(token=body["token"])
    assert body["url"] == f"http://testserver/v/{video.pk}/?s={link.token}"
    assert body == {**body, "share_count": 1, "recipients": 2, "depth": 1}
    assert link.note == "这是我们村的老王" and link.parent is None
    assert set(link.recipients.all()) == {users["bob"], users["carol"]}
    video.refresh_from_db()
    assert video.share_count == 1
    # One feed entry each, pushed to that friend alone, through the same path as likes.
    assert sorted(recipients for recipients, _ in pushed) == [[users["bob"].pk], [users["carol"].pk]]
    event = pushed[0][1]
    assert event["verb"] == "share" and event["note"] == "这是我们村的老王"
    assert event["url"] == f"/v/{video.pk}/?s={link.token}"
    assert event["actor"]["id"] == users["alice"].pk


def test_a_share_shows_only_in_the_feeds_of_those_it_was_sent_to(client, users, video):
    client.force_login(users["bob"])
    share(client, video, to=[users["alice"].pk], note="看看")
    client.force_login(users["alice"])
    assert [e["verb"] for e in client.get("/api/activity/").json()["results"]] == ["share"]
    # carol is alice's friend but not bob's, dave is nobody's recipient here.
    for name in ["carol", "dave"]:
        client.force_login(users[name])
        assert client.get("/api/activity/").json()["results"] == []


def test_a_plain_link_is_made_once_and_handed_out_again(
    client, users, video, pushed, django_capture_on_commit_callbacks
):
    client.force_login(users["alice"])
    with django_capture_on_commit_callbacks(execute=True):
        first = share(client, video)
        again = share(client, video, to=[], note="")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["token"] == again.json()["token"]
    assert again.json()["share_count"] == 1
    assert pushed == []  # a link to copy tells nobody
    assert not Activity.objects.filter(verb=Activity.Verb.SHARE).exists()


def test_a_note_with_html_is_kept_as_text(client, users, video):
    client.force_login(users["alice"])
    note = '<script>alert("x")</script><b>hi</b>'
    token = share(client, video, to=[users["bob"].pk], note=note).json()["token"]
    assert ShareLink.objects.get(token=token).note == note
    page = client.get(f"/v/{video.pk}/?s={token}").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;hi&lt;/b&gt;" in page


def test_an_over_long_note_is_refused_with_the_limit(client, users, video):
    client.force_login(users["alice"])
    response = share(client, video, to=[users["bob"].pk], note="长" * 141)
    assert response.status_code == 400
    assert response.json()["limit"] == 140
    assert "140" in response.json()["detail"]
    assert not ShareLink.objects.exists()
    assert share(client, video, to=[users["bob"].pk], note="长" * 140).status_code == 201


@pytest.mark.parametrize("note", [0, 1.5])
def test_a_note_that_is_not_text_is_refused(client, users, video, note):
    client.force_login(users["alice"])
    response = share(client, video, to=[users["bob"].pk], note=note)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not ShareLink.objects.exists()


@pytest.mark.parametrize("note", ["看\u202e这个", "hi\x00", "ali\u200bce", "\u3164"])
def test_a_note_with_invisible_or_control_characters_is_refused(client, users, video, note):
    """A friend reads the note: it shows what it says (lib.text); line breaks are fine."""
    client.force_login(users["alice"])
    response = share(client, video, to=[users["bob"].pk], note=note)
    assert response.status_code == 400
    assert "U+" in str(response.json())
    assert not ShareLink.objects.exists()
    assert share(client, video, to=[users["bob"].pk], note="第一行\n第二行").status_code == 201


def test_sharing_to_someone_who_is_not_a_friend_is_refused(client, users, video, pushed):
    client.force_login(users["alice"])
    response = share(client, video, to=[users["bob"].pk, users["erin"].pk], note="hi")
    assert response.status_code == 400
    assert response.json()["not_friends"] == [users["erin"].pk]
    assert str(users["erin"].pk) in response.json()["detail"]
    assert not ShareLink.objects.exists() and pushed == []
    assert share(client, video, to=[users["alice"].pk]).status_code == 400  # nor to oneself
    assert share(client, video, to=[999999]).status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"to": "bob"},
        {"to": ["x"]},
        {"to": [0]},
        {"note": ["a"]},
        {"to": list(range(1, 60))},
        {"to": [2**63]},
        {"groups": [2**64]},
    ],
)
def test_malformed_requests_get_a_400_with_a_message(client, users, video, payload):
    client.force_login(users["alice"])
    response = share(client, video, **payload)
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize("status", [Video.Status.HIDDEN, Video.Status.REMOVED])
def test_a_hidden_video_cannot_be_shared(client, users, status):
    hidden = make_video(users["erin"], status=status)
    client.force_login(users["alice"])
    response = share(client, hidden, to=[users["bob"].pk])
    assert response.status_code == 404
    assert response.json()["detail"]
    assert share(client, Video(pk=999999)).status_code == 404


def test_staff_cannot_share_a_hidden_video_either(client, users):
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    users["alice"].is_staff = True
    users["alice"].save()
    client.force_login(users["alice"])
    assert share(client, hidden).status_code == 404


def test_signed_out_visitors_are_asked_to_sign_in(client, video):
    response = share(client, video)
    assert response.status_code == 403
    assert response.json()["login_url"] == "/login/"


def test_sharing_needs_the_csrf_token(users, video):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["alice"])
    assert share(browser, video).status_code == 403


def test_share_flooding_is_rate_limited(client, users, video, settings):
    settings.SHARE_RATE = "3/minute"
    client.force_login(users["alice"])
    for n in range(3):
        assert share(client, video, to=[users["bob"].pk], note=f"#{n}").status_code == 201
    response = share(client, video, to=[users["bob"].pk], note="again")
    assert response.status_code == 429
    assert response.json()["retry_after"] > 0
    assert ShareLink.objects.count() == 3
