from records.csv_import import CsvImportCommand
from records.links import learner_links_import


class Command(CsvImportCommand):
    help = (
        "Import merged learners from a CSV file with the header uln,master_uln: "
        "each row says the learner with uln was merged into the learner with "
        "master_uln (the LRS's MasterSubstituted), so a search by uln answers the "
        "master's record (WSRC0022). Both learners must be imported first. A link "
        "to an unknown learner, to itself or one that would close a cycle is "
        "listed with its line and reason, and makes the exit non-zero; the good "
        "rows load. Safe to re-run."
    )
    service = staticmethod(learner_links_import)
