import pytest
from django.test import Client

from miniapp.engagement.models import Comment
from miniapp.moderation.services import user_ban
from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(users):
    return make_video(users["erin"], title="村口的大树")


def post(client, video, text, **extra):
    return client.post(f"/api/videos/{video.pk}/comments/", {"text": text, **extra}, content_type="application/json")


def page(video, **params):
    return Client().get(f"/api/videos/{video.pk}/comments/", params).json()


def test_a_comment_and_a_reply_show_to_anyone_signed_out_too(client, users, video):
    client.force_login(users["alice"])
    first = post(client, video, "  好大的树 ")
    assert first.status_code == 201
    assert first.json()["text"] == "好大的树" and first.json()["author"]["name"] == "alice"
    client.force_login(users["bob"])
    reply = post(client, video, "一百年了", reply_to=first.json()["id"]).json()
    again = post(client, video, "真的？", reply_to=reply["id"]).json()  # a reply to a reply: same comment
    assert again["parent"] == first.json()["id"] and again["reply_to"] == {"id": users["bob"].pk, "name": "bob"}
    assert reply["reply_to"] is None  # a reply to the comment itself names nobody
    answer = page(video)
    assert answer["count"] == 3 and answer["video_author"] == users["erin"].pk and answer["next"] is None
    [comment] = answer["comments"]
    assert comment["reply_count"] == 2 and [r["text"] for r in comment["replies"]] == ["一百年了", "真的？"]
    assert Video.objects.get(pk=video.pk).comment_count == 3


def test_comments_come_newest_first_in_pages_with_the_pinned_one_on_top(client, users, video, settings):
    settings.COMMENT_RATE = "100/minute"
    client.force_login(users["alice"])
    ids = [post(client, video, f"第{i}条").json()["id"] for i in range(25)]
    erin = Client()
    erin.force_login(users["erin"])
    assert erin.post(f"/api/comments/{ids[3]}/pin/", {"pinned": True}, content_type="application/json").json() == {
        "pinned": True
    }
    first = page(video)
    assert [c["id"] for c in first["comments"]][:3] == [ids[3], ids[24], ids[23]]
    assert first["comments"][0]["pinned"] is True and len(first["comments"]) == 21
    second = page(video, before=first["next"])
    assert [c["id"] for c in second["comments"]] == [ids[4], ids[2], ids[1], ids[0]]  # the pinned one not again
    assert second["next"] is None
    # Pinning another unpins the first: one a video.
    erin.post(f"/api/comments/{ids[5]}/pin/", {"pinned": True}, content_type="application/json")
    assert list(Comment.objects.filter(pinned=True).values_list("pk", flat=True)) == [ids[5]]


def test_only_the_video_author_pins_and_only_comments_not_replies(client, users, video):
    client.force_login(users["alice"])
    comment = post(client, video, "沙发").json()
    reply = post(client, video, "板凳", reply_to=comment["id"]).json()
    response = client.post(f"/api/comments/{comment['id']}/pin/", {"pinned": True}, content_type="application/json")
    assert response.status_code == 403 and "作者" in response.json()["detail"]
    client.force_login(users["erin"])
    response = client.post(f"/api/comments/{reply['id']}/pin/", {"pinned": True}, content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]


def test_its_author_or_the_video_author_deletes_a_comment_with_its_replies(client, users, video):
    client.force_login(users["alice"])
    comment = post(client, video, "删我").json()
    post(client, video, "回复", reply_to=comment["id"])
    client.force_login(users["bob"])
    assert client.delete(f"/api/comments/{comment['id']}/").status_code == 403
    client.force_login(users["erin"])  # the video's author
    assert client.delete(f"/api/comments/{comment['id']}/").status_code == 204
    assert client.delete(f"/api/comments/{comment['id']}/").status_code == 404  # gone already
    assert page(video)["comments"] == [] and Video.objects.get(pk=video.pk).comment_count == 0


def test_bad_comments_are_refused_with_a_reason(client, users, video):
    client.force_login(users["alice"])
    empty = post(client, video, "   ")
    assert empty.status_code == 400 and empty.json()["detail"] == "先写点什么吧。"
    long = post(client, video, "长" * 141)
    assert long.status_code == 400 and "140" in long.json()["detail"]
    assert post(client, video, "两行\n文字").status_code == 400
    gone = post(client, video, "回复", reply_to=424242)
    assert gone.status_code == 400 and gone.json()["code"] == "reply_gone"
    other = make_video(users["bob"])
    elsewhere = post(client, other, "别处").json()
    assert post(client, video, "串门", reply_to=elsewhere["id"]).status_code == 400  # another video's comment
    assert post(client, video, "ok", reply_to="x").status_code == 400
    assert Client().get(f"/api/videos/{video.pk}/comments/?before=").status_code == 400
    assert Client().get(f"/api/videos/{video.pk}/comments/?before=-1").status_code == 400
    assert Comment.objects.filter(video=video).count() == 0


def test_user_text_is_kept_as_text(client, users, video):
    client.force_login(users["alice"])
    post(client, video, "<script>alert(1)</script>")
    assert page(video)["comments"][0]["text"] == "<script>alert(1)</script>"  # escaped where it is shown


def test_signed_out_banned_and_hidden_videos_are_refused(client, users, video):
    assert post(client, video, "匿名").status_code in (401, 403)
    user_ban(user=users["dave"], moderator=None, reason="刷屏。")
    client.force_login(users["dave"])
    banned = post(client, video, "我又来了")
    assert banned.status_code == 403 and "刷屏" in banned.json()["detail"]
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    client.force_login(users["alice"])
    assert post(client, hidden, "看不见").status_code == 404
    assert Client().get(f"/api/videos/{hidden.pk}/comments/").status_code == 404


def test_a_friends_comment_is_in_their_activity_and_goes_with_the_comment(client, users, video):
    client.force_login(users["alice"])
    comment = post(client, video, "好大的树").json()
    bob = Client()
    bob.force_login(users["bob"])  # alice's friend
    [entry] = [e for e in bob.get("/api/activity/").json()["results"] if e["verb"] == "comment"]
    assert entry["note"] == "好大的树" and entry["url"] == f"/v/{video.pk}/?comments=1"
    client.delete(f"/api/comments/{comment['id']}/")
    assert not [e for e in bob.get("/api/activity/").json()["results"] if e["verb"] == "comment"]
    erin = Client()
    erin.force_login(users["erin"])  # nobody's friend: never saw it
    assert not [e for e in erin.get("/api/activity/").json()["results"] if e["verb"] == "comment"]


def test_comments_are_rate_limited(client, users, video, settings):
    settings.COMMENT_RATE = "2/minute"
    client.force_login(users["alice"])
    assert [post(client, video, f"{i}").status_code for i in range(3)] == [201, 201, 429]


def test_a_reply_to_a_comment_removed_meanwhile_is_refused_and_nothing_is_counted(users, video):
    from miniapp.engagement.comments import ReplyGone, comment_create, comment_remove

    parent = comment_create(user=users["alice"], video=video, text="原评论")
    stale = Comment.objects.get(pk=parent.pk)  # read as visible by the API, then removed
    comment_remove(comment=parent)
    with pytest.raises(ReplyGone):
        comment_create(user=users["bob"], video=video, text="晚了", reply_to=stale)
    assert Video.objects.get(pk=video.pk).comment_count == 0


def test_pinning_another_unpins_and_a_removed_comment_cannot_be_pinned(users, video):
    from django.core.exceptions import ValidationError

    from miniapp.engagement.comments import comment_create, comment_pin, comment_remove

    first, second = (comment_create(user=users["alice"], video=video, text=t) for t in ("一", "二"))
    comment_pin(comment=first, pinned=True)
    comment_pin(comment=second, pinned=True)
    assert list(Comment.objects.filter(pinned=True)) == [second]
    stale = Comment.objects.get(pk=first.pk)
    comment_remove(comment=first)
    with pytest.raises(ValidationError):
        comment_pin(comment=stale, pinned=True)
    assert list(Comment.objects.filter(pinned=True)) == [second]


def test_turning_off_show_my_likes_withdraws_comments_from_friends_too(client, users, video):
    from miniapp.engagement.services import user_set_share_likes

    client.force_login(users["alice"])
    post(client, video, "好看")
    user_set_share_likes(user=users["alice"], share_likes=False)
    bob = Client()
    bob.force_login(users["bob"])
    assert not [e for e in bob.get("/api/activity/").json()["results"] if e["verb"] == "comment"]
    assert page(video)["count"] == 1  # the comment stays on the video


def test_signed_out_deletes_and_other_methods_are_refused(client, users, video):
    from miniapp.engagement.comments import comment_create

    comment = comment_create(user=users["alice"], video=video, text="在")
    assert client.delete(f"/api/comments/{comment.pk}/").status_code in (401, 403)
    client.force_login(users["alice"])
    assert client.put(f"/api/comments/{comment.pk}/").status_code == 405
    assert client.post(f"/u/{users['alice'].pk}/").status_code == 405
