"""Articles' lead images: resized to a few widths (``images``), stored under the
instance folder or on an S3-compatible store (``storage``), and set on an article
with their required text alternative (``lead``)."""

from webapp.services.media.images import WIDTHS, ImageRefused, Rendition, renditions
from webapp.services.media.lead import LeadImage, lead_image, remove_lead_image, set_lead_image
from webapp.services.media.storage import LocalStore, MediaStore, S3Store, media_store

__all__ = [
    "WIDTHS",
    "ImageRefused",
    "LeadImage",
    "LocalStore",
    "MediaStore",
    "Rendition",
    "S3Store",
    "lead_image",
    "media_store",
    "remove_lead_image",
    "renditions",
    "set_lead_image",
]
