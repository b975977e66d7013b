"""The learners an organisation declares it serves (decision 25): the age bands,
the reach, their words, and the abstract model the application and the
organisation share.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class LearnerAge(models.TextChoices):
    """The ages of the learners a provider serves, as it declares them. The
    bands start where the audit's age bands do (records.purpose_profile.AGE_STARTS), so
    a declaration can be compared with the ages of the learners found."""

    UNDER_14 = "under_14", _("Under 14")
    AGE_14_16 = "14_16", _("14 to 16")
    AGE_17_19 = "17_19", _("17 to 19")
    AGE_20_24 = "20_24", _("20 to 24")
    AGE_25_OVER = "25_over", _("25 and over")


class LearnerReach(models.TextChoices):
    """Where a provider's learners come from, as it declares it."""

    LOCAL = "local", _("Mostly within a distance of our registered address")
    ENGLAND = "england", _("From across England")


LEARNER_REACH_KM_MAX = 500


def learner_ages_words(ages: list[str] | None) -> str:
    """The declared ages in words ("" when none were declared)."""
    labels = dict(LearnerAge.choices)
    return ", ".join(str(labels[a]) for a in LearnerAge.values if a in (ages or []))


def learner_reach_words(reach: str, km: int | None) -> str:
    """The declared reach in words ("" when none was declared)."""
    if reach == LearnerReach.LOCAL and km:
        return gettext("Mostly within %(km)s km of the registered address") % {"km": km}
    if reach == LearnerReach.ENGLAND:
        return str(LearnerReach.ENGLAND.label)
    return ""


class DeclaredLearners(models.Model):
    """The learners an organisation declares it serves: asked in the application
    (decision 25) and copied to the organisation on approval. Empty for
    organisations registered before it was asked."""

    learner_ages = models.JSONField(
        "Ages of learners served",
        null=True,
        blank=True,
        help_text="The age bands the organisation declared (codes of LearnerAge).",
    )
    learner_reach = models.CharField(
        "Where learners come from",
        max_length=10,
        choices=LearnerReach.choices,
        blank=True,
    )
    learner_reach_km = models.PositiveSmallIntegerField(
        "Distance most learners live within (km)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(LEARNER_REACH_KM_MAX)],
    )

    class Meta:
        abstract = True

    @property
    def learner_ages_display(self) -> str:
        return learner_ages_words(self.learner_ages)

    @property
    def learner_reach_display(self) -> str:
        return learner_reach_words(self.learner_reach, self.learner_reach_km)
