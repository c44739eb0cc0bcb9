"""Bulk seed of a company with years of data (``POST companies/<realm>/bulk``, qbo_emulator/bulk.py)."""
import pytest

from qbo_emulator.testing import ControlAPIError


def test_bulk_seed_resolves_keys_and_masks_tax_ids(api, ctl):
    realm = api.realm
    seeded = ctl.bulk_seed(realm, [
        {'entity': 'Customer', 'key': 'acme', 'body': {'DisplayName': 'Acme, Inc.',
                                                       'PrimaryTaxIdentifier': 'US123456789'}},
        {'entity': 'Item', 'key': 'bolt', 'body': {'Name': 'Bolt', 'Type': 'Service', 'UnitPrice': 2,
                                                   'IncomeAccountRef': {'value': '79'}}},
        {'entity': 'Invoice', 'key': 'inv', 'body': {
            'CustomerRef': {'value': '@acme'}, 'DocNumber': 'OLD-1',
            'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 20.0,
                      'SalesItemLineDetail': {'ItemRef': {'value': '@bolt'}, 'Qty': 10, 'UnitPrice': 2}}]}},
    ])
    assert seeded['created'] == 3
    ids = seeded['ids']
    invoice = ctl.entity(realm, 'Invoice', ids['inv'])
    assert invoice['CustomerRef']['value'] == ids['acme']
    assert invoice['Line'][0]['SalesItemLineDetail']['ItemRef']['value'] == ids['bolt']
    assert invoice['Balance'] == 20.0  # open, as a real invoice
    # What the API answers: the tax id masked but for its last characters; the balance follows the invoice.
    customer = api.get(f"customer/{ids['acme']}").json()['Customer']
    assert customer['PrimaryTaxIdentifier'] == 'XXXXXXX6789'
    assert customer['Balance'] == 20.0


def test_bulk_seed_refuses_what_the_api_refuses(api, ctl):
    with pytest.raises(ControlAPIError) as refused:
        ctl.bulk_seed(api.realm, [{'entity': 'Customer', 'key': 'a', 'body': {'DisplayName': 'Same'}},
                                  {'entity': 'Customer', 'key': 'b', 'body': {'DisplayName': 'same'}}])
    assert refused.value.status == 400 and 'object 1 (Customer b)' in str(refused.value)
    with pytest.raises(ControlAPIError):
        ctl.bulk_seed(api.realm, [{'entity': 'Invoice', 'body': {'CustomerRef': {'value': '@nobody'}}}])
