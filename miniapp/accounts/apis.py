from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from miniapp.accounts.selectors import friends_of
from miniapp.accounts.serializers import UserOutputSerializer


class MeApi(APIView):
    class OutputSerializer(UserOutputSerializer):
        username = serializers.CharField()
        is_staff = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)


class FriendsApi(APIView):
    class OutputSerializer(serializers.Serializer):
        friends = UserOutputSerializer(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer({"friends": friends_of(request.user)}).data)
