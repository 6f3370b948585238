"""Upload handling for the whole project: temporary files named by us, never by the uploader.

Django's TemporaryUploadedFile keeps the uploaded file's extension on its temporary file
(`tmpab12.upload.m3u8`), and tools that look at a file's name then trust the uploader: FFmpeg
read such a file as an HLS playlist (issue 14). Here every temporary upload ends in `.upload`.
"""

import tempfile

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class NeutralTemporaryUploadedFile(TemporaryUploadedFile):
    """A TemporaryUploadedFile whose file on disk has no part of the uploaded name."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None):
        file = tempfile.NamedTemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        UploadedFile.__init__(self, file, name, content_type, size, charset, content_type_extra)


class NeutralTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs):
        super(TemporaryFileUploadHandler, self).new_file(*args, **kwargs)
        self.file = NeutralTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
