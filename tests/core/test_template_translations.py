"""Templates look their words up through the request's kept translations (``i18n.current_translations``):
the page's language, and inside ``force_locale`` (an e-mail in its reader's language) that language,
then the page's again."""
from flask import render_template_string
from flask_babel import force_locale

TEMPLATE = "{{ _('Save draft') }}|{{ ngettext('%(num)d day left', '%(num)d days left', 3) }}"


def test_the_words_follow_the_locale_in_force(app):
    with app.test_request_context("/"):
        with force_locale("nb"):
            norwegian = render_template_string(TEMPLATE)
            with force_locale("sv"):
                swedish = render_template_string(TEMPLATE)
            again = render_template_string(TEMPLATE)
        english = render_template_string(TEMPLATE)
    assert norwegian == again == "Lagre utkast|3 dager igjen"
    assert swedish.startswith("Spara utkast|") and "3 dagar" in swedish
    assert english == "Save draft|3 days left"


def test_a_translated_word_with_markup_is_escaped(app):
    with app.test_request_context("/"), force_locale("nb"):
        html = render_template_string("{{ _('%(name)s is not a PDF. Its content was checked, not its name.', name='<b>x</b>') }}")
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html
