"""each call asks its own questions: forms, answers that point at their question

A call's application form becomes data: sections and questions (rows without a call are the
programme's default form, which a new call copies). Every call gets a copy of the default form,
the questions every call asked until now; every answer moves from the application's JSON column
to an answer row pointing at its question; every attachment points at the call's pitch deck
question. An answer under a key no question has (none should exist) gets a hidden question of
its own in its call's form, so no answer is lost. Edit attributions name questions by key, which
stay the same. Downgrade puts the free-text answers back into the JSON column.

Revision ID: i15form000001
Revises: i15fb0000001
Create Date: 2026-12-03 07:30:00

"""
import os
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from babel.support import Translations

import residency.core.db


# revision identifiers, used by Alembic.
revision = 'i15form000001'
down_revision = 'i15fb0000001'
branch_labels = None
depends_on = None

KEEP = {'sqlite_autoincrement': True}
LANGUAGES = ("en", "nb", "sv", "da", "fi", "is")
TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "residency", "translations")

# The form as this revision knows it (frozen here: later changes to the code's default do not change it).
SECTIONS = [("company", "Company"), ("team", "Team"), ("technology", "Technology and stage"),
            ("residency", "The residency you want"), ("funding", "Funding"), ("attachments", "Attachments")]
QUESTIONS = [
    ("company", "summary", "long_text", None, "What does your company do?",
     "Two or three sentences a reviewer outside your field understands.", {"max_chars": 1500}),
    ("team", "team", "long_text", None, "Who is in the team?", "Founders and key people, their roles and backgrounds.",
     {"max_chars": 4000}),
    ("technology", "track", "single_choice", "track", "Track", None, {}),
    ("technology", "trl", "trl", "trl", "Technology readiness level (TRL)", None, {}),
    ("technology", "technology", "long_text", None, "Describe your technology and its stage",
     "What it is, what has been shown so far, and what comes next.", {"max_chars": 4000}),
    ("residency", "expertise", "long_text", None, "What expertise do you want from the hub?",
     "For example regulatory, translational or clinical expertise.", {"max_chars": 4000}),
    ("residency", "lab_needs", "long_text", None, "What do you need in the lab?",
     "Equipment, biosafety level, chemicals; write 'none' if you need no lab.", {"max_chars": 4000}),
    ("residency", "desired_start", "date", "desired_start", "Desired start", None, {}),
    ("residency", "months", "number", "months", "Duration in months", "From 1 to 24 months.", {"min": 1, "max": 24}),
    ("residency", "desks", "number", "desks", "Office desks", None, {"min": 0, "max": 50}),
    ("residency", "benches", "number", "benches", "Lab benches", None, {"min": 0, "max": 50}),
    ("funding", "funding_status", "long_text", None, "How is the company funded today?",
     "Capital raised, grants and revenue so far.", {"max_chars": 4000}),
    ("funding", "funding_plans", "long_text", None, "What are your funding plans during the residency?",
     "For example an application to your home country's funder.", {"max_chars": 4000}),
    ("attachments", "attachments", "file", "attachments", "Pitch deck and other documents",
     "PDF or image, at most 10 MB each and 5 in all.", {"types": ["pdf", "image"], "max_mb": 10, "max_files": 5}),
]
HOME_CURRENCY = {"NO": "NOK", "SE": "SEK", "DK": "DKK", "FI": "EUR", "IS": "ISK"}
KINDS = ("short_text", "long_text", "number", "money", "date", "single_choice", "multiple_choice", "yes_no", "file", "trl",
         "country")
BINDINGS = ("track", "trl", "desired_start", "months", "desks", "benches", "attachments")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _every_language(text):
    texts = {}
    for lang in LANGUAGES:
        translated = text
        if lang != "en":
            catalogue = Translations.load(TRANSLATIONS, [lang])
            translated = catalogue.gettext(text) or text
        texts[lang] = translated
    return texts


def upgrade():
    op.create_table(
        'form_section',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('title', sa.JSON(), nullable=False),
        sa.Column('created_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_form_section_call_id_call'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_section')),
        sa.UniqueConstraint('call_id', 'key', name='uq_form_section_call_key'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_form_section_call_position', 'form_section', ['call_id', 'position'], unique=False)
    op.create_index('ix_form_section_default_key', 'form_section', ['key'], unique=True,
                    sqlite_where=sa.text('call_id IS NULL'), postgresql_where=sa.text('call_id IS NULL'))
    op.create_table(
        'form_question',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('section_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('binding', sa.String(length=20), nullable=True),
        sa.Column('required', sa.Boolean(), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('label', sa.JSON(), nullable=False),
        sa.Column('help', sa.JSON(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('shown_if_key', sa.String(length=40), nullable=True),
        sa.Column('shown_if_value', sa.String(length=100), nullable=True),
        sa.Column('created_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(_in('kind', KINDS), name=op.f('ck_form_question_kind')),
        sa.CheckConstraint(f"binding IS NULL OR {_in('binding', BINDINGS)}", name=op.f('ck_form_question_binding')),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_form_question_call_id_call'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['section_id'], ['form_section.id'], name=op.f('fk_form_question_section_id_form_section'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_question')),
        sa.UniqueConstraint('call_id', 'key', name='uq_form_question_call_key'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_form_question_call_position', 'form_question', ['call_id', 'position'], unique=False)
    op.create_index('ix_form_question_default_key', 'form_question', ['key'], unique=True,
                    sqlite_where=sa.text('call_id IS NULL'), postgresql_where=sa.text('call_id IS NULL'))
    op.create_index(op.f('ix_form_question_section_id'), 'form_question', ['section_id'], unique=False)
    op.create_table(
        'answer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('value', sa.JSON(), nullable=False),
        sa.Column('updated_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_answer_application_id_application'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['form_question.id'], name=op.f('fk_answer_question_id_form_question'),
                                ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answer')),
        sa.UniqueConstraint('application_id', 'question_id', name='uq_answer_application_question'),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_answer_question_id'), 'answer', ['question_id'], unique=False)
    op.create_table(
        'form_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=40), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('created_at', residency.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_form_change_actor_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_form_change_call_id_call'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_change')),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_form_change_call', 'form_change', ['call_id', 'id'], unique=False)
    with op.batch_alter_table('attachment', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column('question_id', sa.Integer(), nullable=True))

    _move_answers()

    with op.batch_alter_table('attachment', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.alter_column('question_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_attachment_question_id'), ['question_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_attachment_question_id_form_question'), 'form_question',
                                    ['question_id'], ['id'], ondelete='RESTRICT')
    with op.batch_alter_table('application', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_column('answers')


def _move_answers():
    bind = op.get_bind()
    meta = sa.MetaData()
    section = sa.Table('form_section', meta, autoload_with=bind)
    question = sa.Table('form_question', meta, autoload_with=bind)
    answer = sa.Table('answer', meta, autoload_with=bind)
    change = sa.Table('form_change', meta, autoload_with=bind)
    application = sa.Table('application', meta, autoload_with=bind)
    attachment = sa.Table('attachment', meta, autoload_with=bind)
    call = sa.Table('call', meta, autoload_with=bind)
    route = sa.Table('route', meta, autoload_with=bind)
    now = datetime.now(timezone.utc)
    titles = {key: _every_language(title) for key, title in SECTIONS}
    texts = {q[1]: (_every_language(q[4]), _every_language(q[5]) if q[5] else {}) for q in QUESTIONS}

    def write_form(call_id, home_country):
        section_ids, question_ids = {}, {}
        for position, (key, _title) in enumerate(SECTIONS):
            section_ids[key] = bind.execute(section.insert().values(
                call_id=call_id, key=key, position=position, title=titles[key], created_at=now)).inserted_primary_key[0]
        for position, (sec, key, kind, binding, _label, _help, settings) in enumerate(QUESTIONS):
            label, help_ = texts[key]
            question_ids[key] = bind.execute(question.insert().values(
                call_id=call_id, section_id=section_ids[sec], key=key, position=position, kind=kind, binding=binding,
                required=True, hidden=False, label=label, help=help_, settings=dict(settings), shown_if_key=None,
                shown_if_value=None, created_at=now, updated_at=now)).inserted_primary_key[0]
        if call_id is not None:
            bind.execute(change.insert().values(call_id=call_id, question_key=None, action="copied",
                                                detail={"from": "default", "by": "migration"}, actor_id=None, created_at=now))
        return section_ids, question_ids

    write_form(None, None)
    forms = {}
    for call_id, home in bind.execute(sa.select(call.c.id, route.c.home_country).join(route, route.c.id == call.c.route_id)):
        forms[call_id] = write_form(call_id, home)
    free_text = [q[1] for q in QUESTIONS if q[3] is None]
    last = 0
    while True:  # in chunks, so a programme of any size moves in bounded memory
        rows = bind.execute(sa.select(application.c.id, application.c.call_id, application.c.answers, application.c.updated_at)
                            .where(application.c.id > last).order_by(application.c.id).limit(2000)).all()
        if not rows:
            break
        values = []
        for app_id, call_id, answers, updated in rows:
            last = app_id
            section_ids, question_ids = forms[call_id]
            for key, value in (answers or {}).items():
                if value in (None, ""):
                    continue
                if key not in question_ids or key not in free_text:
                    # An answer under a key the form does not have: a hidden question of its own keeps it.
                    safe = "".join(ch if ch.isalnum() else "_" for ch in str(key).lower())[:32] or "answer"
                    while safe in question_ids:
                        safe = f"{safe}_old"[:40]
                    question_ids[safe] = bind.execute(question.insert().values(
                        call_id=call_id, section_id=section_ids["company"], key=safe, position=100 + len(question_ids),
                        kind="long_text", binding=None, required=False, hidden=True, label={"en": str(key)}, help={},
                        settings={"max_chars": 10000}, shown_if_key=None, shown_if_value=None, created_at=now,
                        updated_at=now)).inserted_primary_key[0]
                    free_text.append(safe)
                    key = safe
                values.append(dict(application_id=app_id, question_id=question_ids[key], value=str(value),
                                   updated_at=updated or now))
        if values:
            bind.execute(answer.insert(), values)
    for call_id, (_sections, question_ids) in forms.items():
        bind.execute(attachment.update()
                     .where(attachment.c.application_id.in_(sa.select(application.c.id).where(application.c.call_id == call_id)))
                     .values(question_id=question_ids["attachments"]))


def downgrade():
    with op.batch_alter_table('application', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))
    bind = op.get_bind()
    meta = sa.MetaData()
    question = sa.Table('form_question', meta, autoload_with=bind)
    answer = sa.Table('answer', meta, autoload_with=bind)
    application = sa.Table('application', meta, autoload_with=bind)
    collected = {}
    for app_id, key, kind, value in bind.execute(
            sa.select(answer.c.application_id, question.c.key, question.c.kind, answer.c.value)
            .join(question, question.c.id == answer.c.question_id)):
        collected.setdefault(app_id, {})[key] = value if isinstance(value, str) else str(value)
    for app_id, answers in collected.items():
        bind.execute(application.update().where(application.c.id == app_id).values(answers=answers))
    bind.execute(application.update().where(application.c.answers.is_(None)).values(answers={}))
    with op.batch_alter_table('application', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.alter_column('answers', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('attachment', schema=None, table_kwargs=KEEP) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attachment_question_id_form_question'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attachment_question_id'))
        batch_op.drop_column('question_id')
    op.drop_index('ix_form_change_call', table_name='form_change')
    op.drop_table('form_change')
    op.drop_index(op.f('ix_answer_question_id'), table_name='answer')
    op.drop_table('answer')
    op.drop_index(op.f('ix_form_question_section_id'), table_name='form_question')
    op.drop_index('ix_form_question_default_key', table_name='form_question')
    op.drop_index('ix_form_question_call_position', table_name='form_question')
    op.drop_table('form_question')
    op.drop_index('ix_form_section_default_key', table_name='form_section')
    op.drop_index('ix_form_section_call_position', table_name='form_section')
    op.drop_table('form_section')
