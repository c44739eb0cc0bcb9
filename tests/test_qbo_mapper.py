from odoo.tests import TransactionCase, tagged

from ..models.qbo_mapper import qbo_clean_name


@tagged('post_install', '-at_install')
class TestQboNames(TransactionCase):
    """Names QuickBooks would refuse are cleaned predictably."""

    def test_forbidden_characters_and_whitespace(self):
        self.assertEqual(qbo_clean_name("Acme: West\tCoast\nBranch", 500), "Acme- West Coast Branch")

    def test_length_cap_keeps_non_latin_scripts(self):
        name = "株式会社テスト" * 100
        cleaned = qbo_clean_name(name, 500)
        self.assertEqual(len(cleaned), 500)
        self.assertTrue(cleaned.startswith("株式会社テスト"))
