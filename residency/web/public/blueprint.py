"""The public area's blueprint; its views add their routes to it."""
from flask import Blueprint

bp = Blueprint("public", __name__)
