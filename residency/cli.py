"""Flask commands: seed-demo, scheduler, deliver-outbox, mail-sink, attachments migrate-to-database."""
from __future__ import annotations

import logging
import os

import click
from flask import current_app

from residency.core import attachments
from residency.core.outbox import deliver_due
from residency.demo import seed, seeded
from residency.domain.applications import services as applications
from residency.domain.funding import report_files
from residency.mailsink import serve
from residency.scale import seed_scale_command
from residency.scheduling import run_scheduler


def init_app(app) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(scheduler)
    app.cli.add_command(deliver_outbox)
    app.cli.add_command(mail_sink)
    app.cli.add_command(seed_scale_command)
    app.cli.add_command(attachments_group)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Seed only when the database has no organisations.")
def seed_demo(if_empty: bool) -> None:
    """Seed the demo programme: real clusters, hubs and funders, fictional startups, demo logins."""
    if if_empty and seeded():
        click.echo("Demo programme already present; nothing to do.")
        return
    seed()
    click.echo("Demo programme seeded. Every demo login uses the password 'residency-demo'.")


@click.command("scheduler")
def scheduler() -> None:
    """Run the periodic jobs (APScheduler BlockingScheduler) in this process."""
    run_scheduler(current_app._get_current_object())


@click.command("deliver-outbox")
def deliver_outbox() -> None:
    """Send queued e-mails that are due, once."""
    click.echo(deliver_due())


@click.command("mail-sink")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=None, type=int)
def mail_sink(host: str, port: int | None) -> None:
    """A development SMTP server that files what it receives in instance/mail/."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    serve(host, port or current_app.config["MAIL_PORT"], os.path.join(current_app.instance_path, current_app.config["MAIL_SINK_DIR"]))


@click.group("attachments")
def attachments_group() -> None:
    """Attachment files and where they are stored (ATTACHMENT_STORAGE)."""


@attachments_group.command("migrate-to-database")
@click.option("--delete-local", is_flag=True, help="Delete each local file once its copy in the database is committed.")
def migrate_attachments_to_database(delete_local: bool) -> None:
    """Copy the attachment files of this machine's folder into the database, so every web server reads them.

    Run it on each machine that stored files locally; it may be run again (files already copied are skipped).
    A file whose bytes no longer match the sha256 recorded at upload is left where it is and counted."""
    report = attachments.copy_to_database(applications.stored_files() + report_files.stored_files(), delete_local=delete_local)
    click.echo(f"Copied {report.copied} files into the database; {report.present} were there already, "
               f"{report.missing} are not in {attachments.storage_dir()}, {report.damaged} did not match their sha256.")
    if report.damaged:
        raise SystemExit(1)
