"""Content-addressed storage of the exact bytes received and issued.

A blob's name is derived from the SHA-256 of its content (``dossiers/<kind>/ab/cd/<sha256><ext>``),
so storing the same bytes twice is harmless and a crash between writing the file and committing the
row that names it leaves at most an orphan file that the next attempt reuses — never a row that
points at nothing. On local files (the embedded default) the bytes are written to a temporary file,
flushed to disk (fsync) and renamed, so an acknowledged submission survives a power cut; on S3 a
successful PUT is durable.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage


def name_for(kind: str, sha256: str, ext: str = "") -> str:
    return f"dossiers/{kind}/{sha256[:2]}/{sha256[2:4]}/{sha256}{ext}"


def put(kind: str, data: bytes, ext: str = "") -> tuple[str, str]:
    """Store `data`; return (name, sha256). Idempotent: the same bytes give the same name."""
    sha = hashlib.sha256(data).hexdigest()
    name = name_for(kind, sha, ext)
    storage = default_storage
    if isinstance(storage, FileSystemStorage):
        _put_local(Path(storage.path(name)), data)
    elif not storage.exists(name):
        storage.save(name, ContentFile(data))
    return name, sha


def _put_local(path: Path, data: bytes) -> None:
    if path.exists() and path.stat().st_size == len(data):
        return  # same name, same length: the same bytes (the name is their hash)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def get(name: str) -> bytes:
    with default_storage.open(name, "rb") as f:
        data: bytes = f.read()
    return data


def get_verified(name: str, sha256: str) -> bytes:
    """The blob's bytes, checked against the hash they were stored under."""
    data = get(name)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise OSError(f"stored blob {name} does not match its SHA-256")
    return data
