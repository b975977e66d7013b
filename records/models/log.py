"""The append-only log: one row per search and per record view, written before
anything is shown.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from registration.models import Organisation


class LearnerView(models.Model):
    """One row per search and per record view, written before anything is shown.

    Append-only: on PostgreSQL the application role cannot update, delete or
    truncate it, and it is partitioned by month. It holds no names, dates of
    birth or postcodes.
    """

    class Action(models.TextChoices):
        SEARCH_ULN = "search_uln", _("Search by ULN")
        SEARCH_DEMOGRAPHICS = "search_demographics", _("Search by demographics")
        VIEW_RECORD = "view_record", _("View record")

    class Outcome(models.TextChoices):
        EXACT_MATCH = "exact_match", _("Exact match")
        POSSIBLE_MATCHES = "possible_matches", _("Possible matches")
        TOO_MANY_MATCHES = "too_many_matches", _("Too many matches")
        NO_MATCH = "no_match", _("No match")
        # The ULN searched was merged into another learner's record, which is
        # the one answered (and whose ULN is on the row): the LRS's WSRC0022.
        LINKED_LEARNER_MATCH = "linked_learner_match", _("Linked learner match")
        SHOWN = "shown", _("Record shown")
        # A record view of a learner whose ability to share does not allow their
        # learning events to be shown: the LRS's WSEC0206.
        NOT_SHARED = "not_shared", _("Record shown, achievements withheld (WSEC0206)")
        REFUSED = "refused", _("Refused")

    class Channel(models.TextChoices):
        """How the lookup reached the gate: the same gate, caps and log for each."""

        PAGE = "page", _("Portal page")
        API = "api", _("Web service (API)")
        BATCH = "batch", _("Batch file")

    # Set by the database (its transaction's time); on PostgreSQL a trigger
    # refuses any other time, and draws the id itself, for every role but the
    # log's owner (records.log_grants.STAMP_FUNCTION).
    viewed_at = models.DateTimeField(db_default=Now())
    # No index of their own: (user, viewed_at) and (organisation, viewed_at)
    # below start with them, and every lookup's log row writes each index.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    match_count = models.PositiveSmallIntegerField(default=0)
    # The learner matched, if exactly one, or the ULN searched for (found or
    # not): kept as the ULN (not a foreign key) so a partitioned table needs no
    # reference to learners.
    learner_uln = models.CharField(max_length=10, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # A database default, so adding the column rewrites no partition and rows
    # written before it read as the pages, which was then the only channel.
    channel = models.CharField(
        max_length=10, choices=Channel.choices, db_default=Channel.PAGE
    )
    # Who a search found, as the nightly audit's purpose rules see them (issue
    # 13, decision 25): the learner's age band on the day (an index of
    # records.purpose_profile.AGE_BANDS) and postcode area (its leading letters),
    # stamped when the search found one learner, from the record it found; never a date
    # of birth or a postcode. None and blank on every other row, and on the rows
    # logged before the stamp, which the audit joins to the learners instead.
    # Nullable and a database default, with no CHECK: adding them rewrites and
    # scans no partition.
    learner_age_band = models.SmallIntegerField(null=True, blank=True)
    learner_area = models.CharField(max_length=2, blank=True, db_default="")
    # The API client a web-service call came through (None for the pages). A
    # reference without a database constraint, like learner_uln: adding a foreign
    # key to the partitioned log would scan all of it to validate, and each API
    # row would then lock the client's row; clients are never deleted (PROTECT,
    # revoked instead), and ids come from the token's own row (decision 0020).
    api_client = models.ForeignKey(
        "registration.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ("-viewed_at",)
        indexes = (
            models.Index(fields=("viewed_at",), name="learnerview_time_idx"),
            models.Index(
                fields=("organisation", "viewed_at"), name="learnerview_org_time_idx"
            ),
            models.Index(
                fields=("user", "viewed_at"), name="learnerview_user_time_idx"
            ),
            models.Index(
                fields=("learner_uln", "viewed_at"), name="learnerview_uln_time_idx"
            ),
            # The admin's outcome filter: refusals and too-many-matches are rare,
            # and without it a page of them reads the whole log.
            models.Index(
                fields=("outcome", "viewed_at"), name="learnerview_outcome_time_idx"
            ),
            # An API client's calls (the admin's link from the client): partial,
            # so the pages' rows never write it.
            models.Index(
                fields=("api_client", "viewed_at"),
                name="learnerview_client_time_idx",
                condition=Q(api_client__isnull=False),
            ),
        )

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.viewed_at:%Y-%m-%d %H:%M}"
