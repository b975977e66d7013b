"""Learners, the links between merged records, and their achievements."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Learner(models.Model):
    """A learner's record in the LRS (the five demographics and contact)."""

    class Gender(models.IntegerChoices):
        NOT_KNOWN = 0, _("Not known")
        MALE = 1, _("Male")
        FEMALE = 2, _("Female")
        NOT_SPECIFIED = 9, _("Not specified")

    class AbilityToShare(models.IntegerChoices):
        NOT_PROVIDED = -1, _("Not provided")
        NOTICE_NOT_SEEN = 0, _("Privacy notice not seen")
        NOTICE_SEEN = 1, _("Privacy notice seen, may share")

    # Unique through a named constraint, not unique=True, which would also add a
    # varchar_pattern_ops index that no query uses and every import must write.
    uln = models.CharField("ULN", max_length=10)
    given_name = models.CharField(max_length=35)
    middle_names = models.CharField(max_length=70, blank=True)
    family_name = models.CharField(max_length=35)
    previous_family_name = models.CharField(max_length=35, blank=True)
    date_of_birth = models.DateField()
    gender = models.SmallIntegerField(choices=Gender.choices)
    postcode = models.CharField(max_length=9)
    email = models.EmailField(blank=True)
    ability_to_share = models.SmallIntegerField(
        choices=AbilityToShare.choices, default=AbilityToShare.NOT_PROVIDED
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("uln",)
        constraints = (
            models.UniqueConstraint(fields=("uln",), name="learner_uln_unique"),
            models.CheckConstraint(
                condition=Q(gender__in=[0, 1, 2, 9]), name="learner_gender_code"
            ),
            models.CheckConstraint(
                condition=Q(uln__regex=r"^[1-9][0-9]{9}$") & ~Q(uln="9999999999"),
                name="learner_uln_format",
            ),
        )
        indexes = (
            # The demographic search and the admin's family-name search: an
            # expression index, so case-insensitive equality can use it.
            models.Index(
                Upper("family_name"), "date_of_birth", name="learner_family_dob_idx"
            ),
        )

    def __str__(self) -> str:
        return f"Learner {self.uln}"


class LearnerLink(models.Model):
    """A learner's record merged into another's (the LRS's MasterSubstituted): a
    search by the merged ULN answers the master's record (WSRC0022).

    The merged learner keeps pointing at the record it was merged into, which
    may itself have been merged since: records.links resolves the chain to the
    final master. Never to itself (a constraint), never round in a cycle
    (records.links checks, and on PostgreSQL a trigger refuses one).
    """

    # The merged (substituted) record: at most one master each.
    learner = models.OneToOneField(
        Learner, on_delete=models.CASCADE, related_name="link"
    )
    master = models.ForeignKey(
        Learner,
        on_delete=models.PROTECT,
        related_name="linked",
        verbose_name="merged into",
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("master", "learner")
        constraints = (
            models.CheckConstraint(
                condition=~Q(learner=models.F("master")),
                name="learner_link_not_to_itself",
            ),
        )

    def __str__(self) -> str:
        return f"Learner {self.learner_id} merged into {self.master_id}"


class Achievement(models.Model):
    """A learning event: a qualification a learner was awarded."""

    # No index of its own: the natural-key constraint below starts with learner.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="achievements", db_index=False
    )
    awarding_organisation = models.CharField(max_length=160)
    qualification_title = models.CharField(max_length=255)
    qualification_type = models.CharField(max_length=60)
    level = models.CharField(max_length=20)
    subject = models.CharField(max_length=120)
    grade = models.CharField(max_length=20, blank=True)
    award_date = models.DateField()
    awarding_provider_ukprn = models.CharField(
        "awarding provider's UKPRN", max_length=8, blank=True
    )

    class Meta:
        ordering = ("learner", "-award_date")
        constraints = (
            # Loading the same file again must change nothing.
            models.UniqueConstraint(
                fields=(
                    "learner",
                    "awarding_organisation",
                    "qualification_title",
                    "award_date",
                ),
                name="achievement_natural_key",
            ),
        )

    def __str__(self) -> str:
        return f"{self.qualification_title} ({self.award_date:%Y})"
