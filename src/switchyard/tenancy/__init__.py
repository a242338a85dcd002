"""Tenants and their virtual keys: who may call the gateway, and with what grant.

``settings`` (the shapes) needs nothing beyond pydantic; the rest needs the ``storage`` extra,
and ``revocations`` (announcing revoked keys to every replica) the ``redis`` extra.
"""
