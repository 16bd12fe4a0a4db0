"""The auth area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/account")
