"""The languages the exchange speaks: the one list.

Read by the settings (``LANGUAGES``, which a deployment may narrow but never widen), the
locale negotiation and the footer's switcher (``core/i18n.py``), the account's check constraint
(``domain/accounts/models.py``), and the catalogue and translation tests. Every language but
English has a catalogue in ``residency/translations/<code>``. Nothing else may list them.

Kept free of imports so that the settings module can read it.
"""
LANGUAGES = ("en", "nb", "sv", "da", "fi", "is")
