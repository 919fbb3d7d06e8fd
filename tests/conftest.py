"""Shared fixtures: a real server subprocess on a free port, and clients for it."""

import pytest

from selectchat.client import Client
from selectchat.launch import start_server


@pytest.fixture
def server():
    """A fresh ``selectchat server --port 0`` with default options."""
    with start_server() as running:
        yield running


@pytest.fixture
def connect(server):
    """Make registered clients for the ``server`` fixture: ``alice = connect("alice")``."""
    clients = []

    def make(nick=None, **kwargs):
        client = Client(*server.address, nick, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
