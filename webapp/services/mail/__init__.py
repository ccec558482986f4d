"""Outgoing mail (issue 21): the outbox and its delivery."""
