from records.csv_import import CsvImportCommand
from records.loading import achievements_import


class Command(CsvImportCommand):
    help = (
        "Import achievements from a CSV file with the header uln,awarding_organisation,"
        "qualification_title,qualification_type,level,subject,grade,award_date,"
        "awarding_provider_ukprn (dates yyyy-mm-dd), for learners already imported. "
        "Bad rows, including unknown ULNs, are listed with their line and reason, and "
        "make the exit non-zero; the good rows load. Safe to re-run."
    )
    service = staticmethod(achievements_import)
