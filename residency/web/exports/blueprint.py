"""The exports area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
