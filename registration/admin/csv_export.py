"""CSV files from the admin and the pages, each cell through csv_cell
(lrs_portal.csv_cells), so that a spreadsheet never runs one as a formula."""

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from lrs_portal.csv_cells import csv_cell


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response
