"""The hub area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("hub", __name__, url_prefix="/hub")
