import pytest

from miniapp.accounts.models import User
from miniapp.accounts.serializers import UserOutputSerializer, user_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("display_name", ["鲍勃 Bob", ""])
def test_user_body_is_the_serializers_shape(display_name):
    """Events and frames build a user by hand (`user_body`); the API's serializer must say the same."""
    user = User.objects.create(username="bob", display_name=display_name, avatar_url="https://img.example/b.png")
    assert user_body(user) == dict(UserOutputSerializer(user).data)
    assert user_body(user) == {"id": user.pk, "name": display_name or "bob", "avatar": "https://img.example/b.png"}
