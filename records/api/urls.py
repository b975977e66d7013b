"""/api/v1/: the learner web service, its OpenAPI document and its documentation.

Every other address under /api/ answers a 404 problem document
(records.api.unmatched, included last by lrs_portal.urls).
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from records.api import batches, views

app_name = "api"

urlpatterns = [
    path("v1/me", views.MeView.as_view(), name="me"),
    path(
        "v1/learner-searches",
        views.LearnerSearchesView.as_view(),
        name="learner-searches",
    ),
    path(
        "v1/learning-events",
        views.LearningEventsView.as_view(),
        name="learning-events",
    ),
    path("v1/batches", batches.BatchesView.as_view(), name="batches"),
    path("v1/batches/<uuid:id>", batches.BatchView.as_view(), name="batch"),
    path(
        "v1/batches/<uuid:id>/results",
        batches.BatchResultsView.as_view(),
        name="batch-results",
    ),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path(
        "v1/docs",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", template_name="records/api/docs.html"
        ),
        name="docs",
    ),
]
