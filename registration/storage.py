"""Private file storage under MEDIA_ROOT, outside the web root; never served by URL."""

from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        # Caseworkers download evidence through an admin view that checks permission.
        raise NotImplementedError("Private files have no public URL")


def private_storage() -> PrivateStorage:
    return PrivateStorage()
