"""The funder area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("funder", __name__, url_prefix="/funder")
