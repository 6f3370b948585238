from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory


def test_a_spooled_uploads_temporary_file_keeps_nothing_of_its_name(settings):
    """Issue 14: Django named the file `tmp….upload.m3u8`, and FFmpeg took the extension's word for it."""
    big = SimpleUploadedFile("list.m3u8", b"#EXTM3U\n" + b"#" * settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    request = RequestFactory().post("/api/videos/", {"file": big})
    upload = request.FILES["file"]
    temporary = Path(upload.temporary_file_path())
    assert temporary.name.endswith(".upload")
    assert "m3u8" not in temporary.name and "list" not in temporary.name
    assert upload.name == "list.m3u8"  # the uploader's name is still known, as data
    assert temporary.read_bytes().startswith(b"#EXTM3U\n")
