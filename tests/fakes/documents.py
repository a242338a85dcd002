"""Documents as clients send them: a small, valid two-page PDF (its bytes, their base64, the
``data:`` URL OpenAI's ``file_data`` takes) and a plain-text document."""

from __future__ import annotations

import base64


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first the catalog), with its xref table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


_TEXT = b"BT /F1 12 Tf 20 50 Td (Quarterly report) Tj ET"
PDF = _pdf(
    [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 5 0 R"
        b" /Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_TEXT), _TEXT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
)
PDF_PAGES = 2
PDF_BASE64 = base64.b64encode(PDF).decode()
PDF_DATA_URL = f"data:application/pdf;base64,{PDF_BASE64}"
PDF_URL = "https://example.com/reports/q3.pdf"

NOTES = "Meeting notes: ship on Friday. Zürich office closed."
NOTES_DATA_URL = "data:text/plain;base64," + base64.b64encode(NOTES.encode()).decode()

__all__ = [
    "NOTES",
    "NOTES_DATA_URL",
    "PDF",
    "PDF_BASE64",
    "PDF_DATA_URL",
    "PDF_PAGES",
    "PDF_URL",
]
