"""The notification chores, for the job worker's HANDLER_MODULES (importing registers
them with ``@periodic``)."""

from webapp.services.notifications import replies, staff

__all__ = ["replies", "staff"]
