"""How a user shows in API responses and socket events, wherever they appear: the one shape
every interface module uses (they may import this; not each other)."""

from rest_framework import serializers


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    avatar = serializers.CharField(source="avatar_url")
