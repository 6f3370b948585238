"""A consumer's messages while the shared database thread is busy (`lib.channels_dispatch`)."""

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator

from miniapp.lib.channels_dispatch import DispatchWithoutTidying
from tests.fixtures.sockets import shared_thread_held


class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


class QuickEcho(DispatchWithoutTidying, Echo):
    pass


async def echoed_while_busy(consumer) -> bool:
    """Whether the consumer answers a message while asgiref's thread-sensitive thread (where
    every consumer's database work runs) is held."""
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    assert (await communicator.connect())[0]
    try:
        async with shared_thread_held():
            await communicator.send_to(text_data="hi")
            answered = await communicator.receive_from(timeout=0.5) == "hi"
    except TimeoutError:
        return False  # (the communicator has stopped the consumer)
    # Stopped, not disconnected: Channels' `websocket_disconnect` tidies connections too, and a
    # test without a database may not touch the one an earlier test left in that thread.
    communicator.future.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await communicator.future
    return answered


@pytest.mark.parametrize(("consumer", "answers"), [(QuickEcho, True), (Echo, False)])
def test_a_message_waits_for_the_shared_thread_only_under_channels_own_dispatch(consumer, answers):
    # Echo's False is Channels' own trip (4.2 and later): should a release drop it, this mixin can go.
    # An event loop in a thread of its own: this test runs among the tests without a database,
    # after the browser tests, whose Playwright keeps a loop running in the main thread.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, echoed_while_busy(consumer)).result(30) is answers
