"""The applicant area's blueprint; its views add their routes to it."""
from flask import Blueprint

from residency.domain.accounts.labels import register_filters

bp = Blueprint("applicant", __name__, url_prefix="/startup")
bp.record_once(register_filters)
