"""The cluster area's blueprint; its views add their routes to it."""
from flask import Blueprint

from residency.domain.accounts.labels import register_filters

bp = Blueprint("cluster", __name__, url_prefix="/cluster")
bp.record_once(register_filters)
