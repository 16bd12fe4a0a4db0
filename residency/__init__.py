"""Nordic Residency Exchange: the app factory.

Nothing happens at import time; ``create_app`` reads settings, binds the
extensions and registers every blueprint.
"""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as settings
from residency import cli, web
from residency.core import attachments, i18n, locking, logs, uow
from residency.core.extensions import db, engine_options, mail, migrate
from residency.domain import workflows
from residency.web.extensions import csrf, login_manager

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    # RESIDENCY_INSTANCE_PATH: this machine's own folder (attachments in local storage, the mail sink's
    # folder, SQLite's files) when it is not instance/ beside the code.
    instance_path = os.environ.get("RESIDENCY_INSTANCE_PATH")
    app = Flask(__name__, template_folder=TEMPLATES, instance_relative_config=True,
                instance_path=os.path.abspath(instance_path) if instance_path else None)
    settings.load(app, config_name)
    if overrides:
        app.config.update(overrides)
    _check_production(app, settings.DEFAULT_SECRET_KEY)
    attachments.check_setting(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        # A relative SQLite path lives in the instance folder, whatever the working directory.
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, uri[len("sqlite:///"):])

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"],
                                                             app.config.get("SQLALCHEMY_ENGINE_OPTIONS"))

    workflows.register_all()
    logs.init_app(app)
    db.init_app(app)
    uow.init_app(app)
    with app.app_context():
        locking.configure(db.engine, app.config["DATABASE_LOCK_TIMEOUT_SECONDS"])
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(TEMPLATES), "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops:
        # Behind a load balancer: the client's address (throttling, logs) and https come from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app


def _check_production(app: Flask, default_key: str) -> None:
    if app.config.get("ENV_NAME") != "production":
        return
    key = app.config.get("SECRET_KEY")
    if not key or key == default_key or len(key) < 32:
        raise RuntimeError(
            "Refusing to start in production without a secret key: set RESIDENCY_SECRET_KEY to a random string of 32 characters or more."
        )
    base = (app.config.get("PUBLIC_BASE_URL") or "").lower()
    if not base.startswith("https://") or "localhost" in base or "127.0.0.1" in base:
        raise RuntimeError(
            "Refusing to start in production without the service's public address: set RESIDENCY_PUBLIC_BASE_URL "
            "to the https:// address users reach (every link in an e-mail starts with it)."
        )
