"""The cluster's PDF dossiers."""
from __future__ import annotations

from residency.domain.accounts.models import User
from residency.domain.applications import dossier
from residency.domain.review.services import cluster_application


def cluster_pdf(user: User, application_id: int) -> dossier.Pdf:
    """The staff copy (with the history) for staff of the application's nominating cluster; 404 otherwise."""
    return dossier.render(dossier.dossier_of(cluster_application(user, application_id), for_applicant=False))
