"""The admin area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
