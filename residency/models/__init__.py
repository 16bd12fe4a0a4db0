"""All models, imported so that Alembic and the app see one metadata."""
from .accounts import (  # noqa: F401
    COUNTRIES,
    LANGUAGES,
    REMINDER_DELIVERY,
    ORGANISATION_KINDS,
    ROLE_BY_KIND,
    TRACKS,
    Invitation,
    JoinRequest,
    LoginFailure,
    Membership,
    Organisation,
    PasswordReset,
    User,
)
from .applications import APPLICATION_STATES, Application, ApplicationEdit, Attachment, DeadlineExtension  # noqa: F401
from .audit import StatusChange  # noqa: F401
from .base import UTCDateTime, utcnow  # noqa: F401
from .outbox import OutboxMessage  # noqa: F401
from .programme import CALL_STATES, Call, Criterion, HubCapacity, Route, route_funder  # noqa: F401
from .placements import DATED_STATES, PLACEMENT_STATES, Placement  # noqa: F401, E402
from .review import RECOMMENDATIONS, Nomination, Review, ReviewAssignment, ReviewScore  # noqa: F401, E402
from .funding import (  # noqa: F401, E402
    BUDGET_CATEGORIES,
    CURRENCIES,
    FUNDING_STATES,
    REPORT_KINDS,
    BudgetLine,
    Disbursement,
    FundingApplication,
    FundingReport,
    FundingScheme,
)
from .impact import SURVEY_MONTHS, ImpactSurvey  # noqa: F401, E402
from .api import ApiToken  # noqa: F401, E402
