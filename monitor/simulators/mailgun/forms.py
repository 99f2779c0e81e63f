"""The form bodies of `POST /messages` and `/messages.mime`: urlencoded or multipart."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import collapse_rfc2231_value
from urllib.parse import parse_qs

from monitor.simulators.base import Request
from monitor.simulators.mailgun.wire import BadRequest, Fields, Files


def parse_form(request: Request) -> tuple[Fields, Files]:
    """Form fields and file parts of a urlencoded or multipart/form-data body."""
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        try:
            return parse_qs(request.body.decode("utf-8"), keep_blank_values=True), {}
        except UnicodeDecodeError:
            raise BadRequest("Request body is not valid UTF-8") from None
    fields: Fields = {}
    files: Files = {}
    for headers, content in _multipart_parts(content_type, request.body):
        name = headers.get_param("name", header="content-disposition")
        if name is None:
            continue
        filename = headers.get_filename()
        if filename is not None:
            files.setdefault(collapse_rfc2231_value(name), []).append((filename, content))
        else:
            charset = headers.get_content_charset() or "utf-8"
            fields.setdefault(collapse_rfc2231_value(name), []).append(content.decode(charset, "replace"))
    return fields, files


def _multipart_parts(content_type: str, body: bytes) -> Iterator[tuple[Message, bytes]]:
    """Split a multipart body by hand: the email package would parse a `message/rfc822`
    part (the MIME upload) into a nested message and lose its exact bytes."""
    envelope = Message()
    envelope["Content-Type"] = content_type
    boundary = envelope.get_boundary()
    if not boundary:
        raise BadRequest("Malformed multipart body: no boundary")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(chunks) < 2:
        raise BadRequest("Malformed multipart body")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return  # the closing delimiter
        # After the delimiter: optional padding, CRLF, the part's headers, a blank line, content.
        head, separator, content = chunk.lstrip(b" \t").removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise BadRequest("Malformed multipart body: part without headers")
        yield BytesHeaderParser().parsebytes(head + b"\r\n\r\n"), content
