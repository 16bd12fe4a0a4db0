"""The insight area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("insight", __name__, url_prefix="/insight")
