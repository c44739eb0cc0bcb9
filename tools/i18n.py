"""Translatable messages for the plain-Python client, without depending on Odoo.

Inside Odoo, `_lt` is Odoo's lazy translation for this addon: the message is translated when it
is shown (``str()``), in the language of the user who sees it (English in cron jobs), and Odoo's
translation export collects the ``_lt("...")`` literals into ``i18n/quickbooks_online.pot``.
Without Odoo (the standalone tests, other Python programs) it only formats the English text.
"""
try:
    from odoo.tools.translate import LazyTranslate
except ImportError:  # plain Python
    LazyTranslate = None

if LazyTranslate is not None:
    _lt = LazyTranslate('quickbooks_online', default_lang='en_US')
else:
    def _lt(source, *args, **kwargs):
        """Format `source` like Odoo's translation would, without translating it."""
        return source % (args or kwargs) if (args or kwargs) else source
