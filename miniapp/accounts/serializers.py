"""How a user shows in API responses and socket events, wherever they appear: the one shape
every interface module uses (they may import this; not each other), and the event and frame
builders of the apps above accounts too."""

from rest_framework import serializers


def user_body(user) -> dict:
    """A user as every event, frame and answer carries them: `{"id", "name", "avatar"}`. The
    builders of events and room frames call this directly (a serializer per user would cost more
    than the rest of a frame). `UserOutputSerializer` declares the same fields for the API's schema;
    a test holds the two equal."""
    return {"id": user.pk, "name": user.name, "avatar": user.avatar_url}


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar = serializers.CharField(source="avatar_url")
