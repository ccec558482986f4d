"""Mail notifications (issue 21): what readers and staff are told by mail, and how each
mail is turned off.

- ``settings``: an account's notification settings, the kinds of mail and turning one
  off, and the per-comment reply subscription;
- ``tokens``: the signed unsubscribe tokens (per account and kind of mail) and the
  ``List-Unsubscribe`` headers every notification carries;
- ``replies``: the batch chore that mails readers the replies to their comments;
- ``staff``: the moderators' queue alerts and daily digest, the editors' poll alerts.

Every mail is written to the outbox (webapp/services/mail/outbox.py) in the
transaction that decided it, and delivered by the job worker.
"""
