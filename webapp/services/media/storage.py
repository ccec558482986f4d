"""Where the renditions are kept: files under MEDIA_DIR (``instance/media`` unless
set), served by Pulse at /media/, or an S3-compatible store (all of
MEDIA_S3_ENDPOINT_URL, MEDIA_S3_BUCKET, MEDIA_S3_ACCESS_KEY_ID and
MEDIA_S3_SECRET_ACCESS_KEY set; the ``s3`` extra installs boto3) whose objects
readers load from MEDIA_PUBLIC_URL.

Keys are named after the upload's content, so a stored object never changes and may
be cached for a year.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from flask import current_app, url_for

IMMUTABLE = "public, max-age=31536000, immutable"


class MediaStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str: ...


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("a media key stays under the media folder")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".part")
        partial.write_bytes(data)
        partial.replace(path)  # readers never see half a file

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        base = current_app.config.get("MEDIA_PUBLIC_URL")
        if base:
            return f"{base.rstrip('/')}/{key}"
        return url_for("public.media_file", key=key)


class S3Store:
    def __init__(self, client: Any, bucket: str, public_url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.public_url = public_url.rstrip("/")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=IMMUTABLE,
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def url(self, key: str) -> str:
        return f"{self.public_url}/{key}"


def media_dir() -> Path:
    configured = current_app.config.get("MEDIA_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "media"


def s3_configured() -> bool:
    config = current_app.config
    return all(
        config.get(name)
        for name in (
            "MEDIA_S3_ENDPOINT_URL",
            "MEDIA_S3_BUCKET",
            "MEDIA_S3_ACCESS_KEY_ID",
            "MEDIA_S3_SECRET_ACCESS_KEY",
        )
    )


def _s3_client() -> Any:
    try:
        import boto3  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "MEDIA_S3_* is set but boto3 is not installed: pip install 'pulse[s3]'"
        ) from exc
    config = current_app.config
    return boto3.client(
        "s3",
        endpoint_url=config["MEDIA_S3_ENDPOINT_URL"],
        region_name=config.get("MEDIA_S3_REGION") or "us-east-1",
        aws_access_key_id=config["MEDIA_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=config["MEDIA_S3_SECRET_ACCESS_KEY"],
    )


def media_store() -> MediaStore:
    """The store the configuration names (one S3 client per app)."""
    if not s3_configured():
        return LocalStore(media_dir())
    store: S3Store | None = current_app.extensions.get("pulse_media_s3")
    if store is None:
        config = current_app.config
        public = config.get("MEDIA_PUBLIC_URL") or (
            f"{config['MEDIA_S3_ENDPOINT_URL'].rstrip('/')}/{config['MEDIA_S3_BUCKET']}"
        )
        store = S3Store(_s3_client(), config["MEDIA_S3_BUCKET"], public)
        current_app.extensions["pulse_media_s3"] = store
    return store
