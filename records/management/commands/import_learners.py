from records.csv_import import CsvImportCommand
from records.loading import learners_import


class Command(CsvImportCommand):
    help = (
        "Import learners from a CSV file with the header uln,given_name,middle_names,"
        "family_name,previous_family_name,date_of_birth,gender,postcode,email "
        "(dates yyyy-mm-dd): add new learners and update changed ones by ULN. Bad "
        "rows are listed with their line and reason, and make the exit non-zero; "
        "the good rows load. Safe to re-run."
    )
    service = staticmethod(learners_import)
