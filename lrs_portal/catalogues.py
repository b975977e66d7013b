"""The Welsh catalogue compiled without GNU gettext (docs/decisions/0034).

Django's ``compilemessages`` needs ``msgfmt``; a fresh machine may not have it,
and ``make run`` must work there. polib writes the same ``.mo`` file from the
``.po`` that is committed, so ``make setup`` (and the test suite, on start)
compile with it, and only editing the catalogue (``make messages``) needs
gettext's ``xgettext``.

    python -m lrs_portal.catalogues      # compile every stale .mo under locale/
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib  # type: ignore[import-untyped]

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def compile_catalogues(locale: Path = LOCALE) -> list[Path]:
    """Write each ``.mo`` older than its ``.po`` (or missing); return those written.

    Fuzzy entries are left out, as ``msgfmt`` leaves them out: a guess is not a
    translation, and the page shows the English instead.
    """
    written = []
    for po_path in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = polib.pofile(str(po_path))
        for entry in catalogue.fuzzy_entries():
            catalogue.remove(entry)
        catalogue.save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(LOCALE.parent)}", file=sys.stderr)
