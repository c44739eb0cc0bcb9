"""The matcher alone (tools/qbo_matching.py): normalisation and the rules of evidence."""
import pytest
from quickbooks_online.tools.qbo_matching import Party, match, normalize_name, tax_id_visible


@pytest.mark.parametrize('name, expected', [
    ('  The ACME, Inc. ', 'acme'),
    ('Acme Incorporated', 'acme'),
    ('ACME   L.L.C.', 'acme'),
    ('Müller GmbH & Co. KG', 'muller'),
    ("O'Brien-Smith Ltd", 'obrien smith'),
    ('Smith & Sons', 'smith and sons'),
    ('The Company', 'the company'),
    ('Crème Brûlée Corp', 'creme brulee'),
])
def test_normalize_name(name, expected):
    assert normalize_name(name) == expected


def test_tax_id_visible_needs_enough_characters():
    assert tax_id_visible('XXXXXXX6789') == '6789'
    assert tax_id_visible('XX89') == ''


def _states(proposals):
    return {(p.qbo_key, p.odoo_key): (p.state, p.reason) for p in proposals}


def test_levels_and_traps():
    qbo = [Party('1', names=('Acme, Inc.',)),
           Party('2', names=('Beta LLC',)), Party('3', names=('Beta Ltd',)),
           Party('4', names=('Gamma Ltd',), emails=frozenset({'ap@gamma.example'})), Party('5', names=('Gamma Inc',)),
           Party('6', names=('Northwind Trading Co',)),
           Party('7', names=('Delta Group',), tax_id='XXXXXX4321', postal='73301'),
           Party('8', names=('Epsilon',), tax_id='XXXXXX9999', postal='10001'),
           Party('9', names=('Renamed',), marker=19), Party('10', names=('Alder Brook Logistics',))]
    odoo = [Party(11, names=('ACME INC',)), Party(12, names=('BETA',)),
            Party(14, names=('Gamma',), emails=frozenset({'ap@gamma.example'})),
            Party(16, names=('Northwind Traders',)),
            Party(17, names=('Delta & Partners',), tax_id='US9994321', postal='73301'),
            Party(18, names=('Zeta',), tax_id='DE1119999', postal='20002'),
            Party(19, names=('Iota',)), Party(20, names=('Alder Brok Logistics',))]
    states = _states(match(qbo, odoo))
    assert states[('1', 11)] == ('linked', 'name')
    assert states[('2', 12)] == states[('3', 12)] == ('ambiguous', 'name')
    assert states[('4', 14)] == ('linked', 'email')
    assert states[('5', None)] == ('qbo_only', '')
    assert states[('10', 20)] == ('proposed', 'similar')  # a typo
    assert states[('6', None)] == ('qbo_only', '')  # another word: another company
    assert states[(None, 16)] == ('odoo_only', '')
    assert states[('7', 17)] == ('linked', 'tax_id')
    assert states[('8', None)] == ('qbo_only', '')  # the visible end alone never decides
    assert states[(None, 18)] == ('odoo_only', '')
    assert states[('9', 19)] == ('linked', 'marker')


def test_existing_links_and_countries():
    qbo = [Party('1', names=('Acme',), country='US'), Party('2', names=('Omega',), country='GB')]
    odoo = [Party(11, names=('Acme',), country='US'), Party(12, names=('Omega GmbH',), country='DE')]
    states = _states(match(qbo, odoo, linked=[('1', 11)]))
    assert states[('1', 11)] == ('linked', 'link')
    assert states[('2', 12)] == ('proposed', 'name')  # same name, other country: a person confirms


def test_one_record_two_candidates_by_email_is_ambiguous():
    qbo = [Party('1', names=('A',), emails=frozenset({'x@y.example'})),
           Party('2', names=('B',), emails=frozenset({'x@y.example'}))]
    odoo = [Party(11, names=('C',), emails=frozenset({'x@y.example'}))]
    assert {p.state for p in match(qbo, odoo)} == {'ambiguous'}
