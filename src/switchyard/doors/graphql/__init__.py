"""The GraphQL door at ``/graphql`` (the ``graphql`` extra: Strawberry).

Queries ``models``, ``health``, ``providers``, ``usage``; the mutation ``complete``; the
subscription ``completionStream`` over WebSocket (``graphql-transport-ws`` and the legacy
``graphql-ws``). Import :mod:`switchyard.doors.graphql.view` only when Strawberry is installed:
the server does that lazily (see :mod:`switchyard.server.app`).
"""
