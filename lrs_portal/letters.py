"""Letters: the outbox's second channel (decision 0014).

With NOTIFY_API_KEY set a letter goes through GOV.UK Notify's letter API
(lrs_portal.notify, shared with email), filling
in NOTIFY_LETTER_TEMPLATE_ID with the address and the row's personalisation. Without
it (development, the demo) the letter is written as a PDF to LETTERS_DIR and, with
DEBUG on, its text printed to the console so a demo user can read the code.

A letter's body is written as Notify templates are, with ((placeholders)); a value
the service must not keep (a one-time code) is named in SECRET_PLACEHOLDERS and
removed from the row once the letter has gone.
"""

import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from notifications_python_client.notifications import NotificationsAPIClient

from lrs_portal.models import Notification
from lrs_portal.notify import notify_deliver

SECRET_PLACEHOLDERS = frozenset({"code"})
REMOVED = "(removed once posted)"
_PLACEHOLDER = re.compile(r"\(\(([a-z_0-9]+)\)\)")


def letter_text(notification: Notification) -> str:
    """The letter's body with its placeholders filled in."""
    values = notification.personalisation

    def fill(match: re.Match[str]) -> str:
        return str(values.get(match.group(1), match.group(0)))

    return _PLACEHOLDER.sub(fill, notification.body)


def letter_deliver(notification: Notification) -> str:
    """Send one letter; return the provider's reference for it."""
    if settings.NOTIFY_API_KEY:
        return _notify_send(notification)
    return _file_send(notification)


def letter_forget_secrets(notification: Notification) -> None:
    """Remove the values no one may read back (a one-time code) from the row."""
    for key in SECRET_PLACEHOLDERS & set(notification.personalisation):
        notification.personalisation[key] = REMOVED


def _notify_send(notification: Notification) -> str:
    lines = {
        f"address_line_{number}": line
        for number, line in enumerate(notification.postal_address, start=1)
    }

    def send(client: NotificationsAPIClient, reference: str) -> dict[str, Any]:
        return client.send_letter_notification(  # type: ignore[no-any-return,no-untyped-call]
            template_id=settings.NOTIFY_LETTER_TEMPLATE_ID,
            personalisation={**notification.personalisation, **lines},
            reference=reference,
        )

    return notify_deliver(notification, send)


def _file_send(notification: Notification) -> str:
    folder = Path(settings.LETTERS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"letter-{notification.pk}-{timezone.now():%Y%m%d-%H%M%S}.pdf"
    lines = [*notification.postal_address, "", *_wrapped(letter_text(notification))]
    path.write_bytes(letter_pdf(lines))
    if settings.DEBUG:  # the demo: no post, so show what the letter says
        sys.stdout.write(
            f"\n--- Letter ({notification.reference}) written to {path} ---\n"
            f"{letter_text(notification)}\n--- end of letter ---\n"
        )
    return path.name


def _wrapped(text: str, width: int = 85) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, width) or [""])
    return lines


def _pdf_text(line: str) -> str:
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return escaped.encode("latin-1", "replace").decode("latin-1")


def letter_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF of plain lines (Helvetica), enough for a demo letter."""
    text = "\n".join(f"({_pdf_text(line)}) Tj T*" for line in lines[:60])
    stream = f"BT\n/F1 11 Tf\n14 TL\n60 780 Td\n{text}\nET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
