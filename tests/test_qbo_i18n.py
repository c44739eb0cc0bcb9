"""Translations: the .pot is complete, user-visible strings are marked, and French works end to end.

When `test_pot_has_every_translatable_term` fails, run ``scripts/update_pot`` (Odoo's own export
from a throwaway install) and commit ``i18n/``.
"""
import ast
import fnmatch
import os

import polib

from odoo.exceptions import UserError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import PYTHON_TRANSLATION_COMMENT, TranslationModuleReader

ADDON = 'quickbooks_online'
# Folders of the checkout that are not part of the addon as shipped (nor translated). The bridge addons of
# bridges/ are addons of their own: their terms belong to them (Odoo's _() looks them up under the bridge).
NOT_SHIPPED = {'tests', 'tests_standalone', 'scripts', 'emulator', 'qbo_emulator', 'i18n', 'static', 'bridges'}
# Exceptions whose message a user reads: their text must go through _() / _lt().
USER_ERRORS = {'UserError', 'ValidationError', 'AccessError', 'RedirectWarning', 'MissingError',
               'QboBlocked', 'QboReconnectNeeded', 'QboError', 'QboConnectionError', 'QboOAuthError',
               'QboServerError', 'QboRateLimitError', 'QboValidationError'}


def addon_python_files():
    """(folder, file name) of the addon's shipped Python files (the checkout also holds build folders)."""
    root = get_module_path(ADDON)
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(('.', '_')) and d not in NOT_SHIPPED)
        for fname in sorted(fnmatch.filter(files, '*.py')):
            yield dirpath, fname


class AddonTermReader(TranslationModuleReader):
    """Odoo's exporter (the one behind --i18n-export and scripts/update_pot), on the shipped files only.

    Odoo's version walks the whole addons folder, following symlinks: the checkout's .venv and
    .build (which links back to the checkout) would make it endless.
    """

    def _export_translatable_resources(self):
        root = get_module_path(ADDON)
        for dirpath, fname in addon_python_files():
            self._babel_extract_terms(fname, os.path.dirname(root), dirpath, 'python',
                                      extra_comments=[PYTHON_TRANSLATION_COMMENT],
                                      extract_keywords={'_': None, '_lt': None})


def _is_text(node):
    return isinstance(node, (ast.Constant, ast.JoinedStr)) and (
        isinstance(node, ast.JoinedStr) or isinstance(node.value, str))


@tagged('post_install', '-at_install')
class TestQboI18n(TransactionCase):

    def test_pot_has_every_translatable_term(self):
        """Every term Odoo would export today (fields, selections, views, menus, _() and _lt()) is in the .pot."""
        pot_path = os.path.join(get_module_path(ADDON), 'i18n', f'{ADDON}.pot')
        self.assertTrue(os.path.exists(pot_path), "i18n/quickbooks_online.pot is missing: run scripts/update_pot")
        in_pot = {entry.msgid for entry in polib.pofile(pot_path)}
        live = {}
        for _module, ttype, name, res_id, source, _value, _comments in AddonTermReader(self.env.cr, [ADDON]):
            if name.startswith('ir.model.fields,') and self._added_by_another_module(res_id):
                continue
            live.setdefault(source, f"{ttype}:{name}")
        self.assertGreater(len(live), 100, "the reader found the addon's terms")
        missing = sorted(set(live) - in_pot)
        self.assertFalse(missing, "%d user-visible strings are missing from i18n/quickbooks_online.pot (run "
                         "scripts/update_pot):\n%s" % (len(missing), '\n'.join(
                             f"  {live[m]}: {m[:120]!r}" for m in missing[:40])))

    def _added_by_another_module(self, xmlid):
        """True for a field that an app installed beside the connector adds to our models (the rating mixin
        on our mail threads, when an app a bridge needs installs it): its term is that app's, not ours."""
        record = self.env.ref(xmlid if '.' in str(xmlid) else f"{ADDON}.{xmlid}", raise_if_not_found=False)
        if not record or record._name != 'ir.model.fields' or record.model not in self.env:
            return False
        field = self.env[record.model]._fields.get(record.name)
        return field is not None and getattr(field, '_module', ADDON) not in (ADDON, None)

    def test_user_visible_strings_are_marked_for_translation(self):
        """_() gets a literal (else the export misses it); user errors are raised with _() / _lt() text."""
        problems = []
        for dirpath, fname in addon_python_files():
            path = os.path.join(dirpath, fname)
            with open(path, encoding='utf-8') as source:
                tree = ast.parse(source.read(), path)
            rel = os.path.relpath(path, get_module_path(ADDON))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ''
                first = node.args[0] if node.args else None
                if name in ('_', '_lt') and first is not None and not (
                        isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    problems.append(f"{rel}:{node.lineno}: {name}() needs a literal string, not {ast.unparse(first)[:60]}")
                elif name in ('_', '_lt') and any(isinstance(arg, ast.JoinedStr) for arg in
                                                  node.args[1:] + [kw.value for kw in node.keywords]):
                    # Babel evaluates every string token of the call: an f-string argument makes
                    # Odoo's export skip the whole file.
                    problems.append(f"{rel}:{node.lineno}: f-string argument in {name}() breaks the export")
                elif name in USER_ERRORS and first is not None and _is_text(first):
                    problems.append(f"{rel}:{node.lineno}: {name}({ast.unparse(first)[:60]}) is not translatable")
                elif name == '_qbo_notification' and any(_is_text(arg) for arg in node.args[:2]):
                    problems.append(f"{rel}:{node.lineno}: notification text is not translatable")
                elif name == 'message_post' and any(kw.arg == 'body' and _is_text(kw.value) for kw in node.keywords):
                    problems.append(f"{rel}:{node.lineno}: chatter message is not translatable")
        self.assertFalse(problems, "Untranslatable user-visible strings:\n" + '\n'.join(problems))

    def test_french_translation_chain(self):
        """i18n/fr.po is loaded like any translation and used for fields, selections, views and messages."""
        self.env['res.lang']._activate_lang('fr_FR')
        self.env['ir.module.module']._load_module_terms([ADDON], ['fr_FR'], overwrite=True)
        fr_po = polib.pofile(os.path.join(get_module_path(ADDON), 'i18n', 'fr.po'))
        french = {entry.msgid: entry.msgstr for entry in fr_po if entry.msgstr}
        pot = polib.pofile(os.path.join(get_module_path(ADDON), 'i18n', f'{ADDON}.pot'))
        self.assertEqual({e.msgid for e in fr_po}, {e.msgid for e in pot}, "fr.po follows the .pot (scripts/update_pot)")
        env_fr = self.env(context={'lang': 'fr_FR'})
        Connection = env_fr['qbo.connection']
        # Field label and selection label (model terms, from the database).
        described = Connection.fields_get(['qbo_company_name', 'state'])
        self.assertEqual(described['qbo_company_name']['string'], french['QuickBooks company'])
        self.assertIn(['reconnect', french['Reconnection needed']], [list(pair) for pair in described['state']['selection']])
        # View terms.
        arch = env_fr['qbo.binding'].get_view(self.env.ref(f'{ADDON}.qbo_binding_view_list').id)['arch']
        self.assertIn(french['Retry'], arch)
        # Code terms: a UserError raised by the model, and a message raised by the plain-Python tools.
        with self.assertRaises(UserError) as caught:
            Connection._qbo_verify_state('not-a-state')
        self.assertEqual(str(caught.exception), french[
            "The answer from Intuit does not carry a valid state. Start again from the Connect button."])
        connection = Connection.new({'environment': 'custom', 'custom_base_url': False})
        with self.assertRaises(UserError) as caught:
            connection._qbo_endpoints()
        self.assertEqual(str(caught.exception), french["A custom QuickBooks endpoint needs a base URL."])
