import pytest

from miniapp.videos.models import Video
from tests.fixtures.factories import make_video

pytestmark = pytest.mark.django_db


def test_every_door_to_a_hidden_video_gives_the_one_404(client, users):
    """Like, share, view, report, the video's API, its stats and the signed-out like all
    answer a video the caller cannot have with the same message (`video_or_404`)."""
    hidden = make_video(users["erin"], status=Video.Status.HIDDEN)
    signed_out = client.post(f"/v/{hidden.pk}/like-after-sign-in/")
    client.force_login(users["alice"])
    api = f"/api/videos/{hidden.pk}"
    answers = [
        signed_out,
        client.post(f"{api}/like/"),
        client.delete(f"{api}/like/"),
        client.post(f"{api}/shares/", {"to": []}, content_type="application/json"),
        client.post(f"{api}/views/", {"seconds": 5}, content_type="application/json"),
        client.post(f"{api}/reports/", {"reason": "spam"}, content_type="application/json"),
        client.get(f"{api}/"),
        client.get(f"{api}/stats/"),
    ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert {answer.json()["detail"] for answer in answers} == {"这个视频不存在或已无法观看。"}
