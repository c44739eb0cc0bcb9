"""A labelled "QuickBooks company with years of data" and an Odoo database that overlaps it.

Deterministic (no randomness): 300 QuickBooks customers, 200 items and 500 open invoices, and Odoo
partners and products that are the same companies and goods spelled differently (case, punctuation,
legal suffixes, "The", accents, extra spaces), found by e-mail or by tax id and postal code, or
carrying our marker; plus labelled traps: two QuickBooks customers (or items) normalising to the
same name, similar but different companies, a tax id whose visible end is shared by another company.

Each Odoo record has a label: the key of the QuickBooks object it is the same as, ``AMBIGUOUS``
(a person must decide between several) or ``None`` (not in QuickBooks).
"""
AMBIGUOUS = 'ambiguous'
N_CUSTOMERS = 300
N_ITEMS = 200
N_INVOICES = 500

_FIRST = ('Alder', 'Birch', 'Cedar', 'Dune', 'Ember', 'Falcon', 'Granite', 'Harbor', 'Iris', 'Juniper', 'Kestrel',
          'Lantern', 'Meadow', 'Nimbus', 'Orchard', 'Pioneer', 'Quarry', 'Raven', 'Summit', 'Tundra')
_SECOND = ('Brook', 'Crest', 'Field', 'Gate', 'Hollow', 'Isle', 'Knoll', 'Ledge', 'Mill', 'Point', 'Ridge',
           'Shore', 'Vale', 'Wharf', 'Yard', 'Bay', 'Cove', 'Dale', 'Fork', 'Glen')
_TRADE = ('Logistics', 'Bakery', 'Dental', 'Robotics', 'Textiles', 'Printing')
_GOODS = ('Bracket', 'Valve', 'Hinge', 'Gasket', 'Spindle', 'Lever', 'Clamp', 'Flange', 'Rotor', 'Sprocket')
_GRADE = ('Alpha', 'Bravo', 'Delta', 'Sigma', 'Omega', 'Titan', 'Nova', 'Vector', 'Zenith', 'Apex',
          'Orbit', 'Prism', 'Quantum', 'Radius', 'Stellar', 'Turbo', 'Ultra', 'Vertex', 'Xeno', 'Yield')


def _company_names():
    """Distinct company names ("Alder Brook Logistics"), none a near-copy of another."""
    names = []
    for i, first in enumerate(_FIRST):
        for j, second in enumerate(_SECOND):
            names.append(f"{first} {second} {_TRADE[(i + j) % len(_TRADE)]}")
    return names


def _good_names():
    return [f"{grade} {good}" for grade in _GRADE for good in _GOODS]


# How the Odoo spelling of a matched company differs from QuickBooks' (by position): (qbo, odoo) name pairs.
def _spellings(name):
    accented = name.replace('a', 'à', 1).replace('e', 'é', 1)
    return (
        (f"{name}, Inc.", name.upper() + ' INC'),
        (f"{name} Limited", name.replace(' ', '-', 1) + ' Ltd.'),
        (f"{name} LLC", f"The {name}"),
        (name, accented + ' GmbH'),
        (f"{name} Inc", '  ' + name.replace(' ', '   ') + ' ,  Inc '),
        (f"{name} Corp.", name.lower()),
    )


def customers(marker=None):
    """(qbo, odoo, labels) of the customers.

    ``qbo``: [{"entity", "key", "body"}] for the emulator's bulk seed; ``odoo``: [(key, res.partner vals)];
    ``labels``: {odoo key: qbo key | AMBIGUOUS | None}. ``marker(odoo key)`` gives our marker of a created
    partner (customers we created before, renamed since in QuickBooks); without it those are left out.
    """
    names = _company_names()
    qbo, odoo, labels = [], [], {}
    pos = 0

    def take():
        nonlocal pos
        pos += 1
        return names[pos - 1]

    # 1. 210 the same companies spelled differently, matched by name; 10 by e-mail (other names), 8 by
    # tax id and postal code (another name), 8 by our marker (renamed in QuickBooks since).
    for i in range(210):
        name = take()
        qbo_name, odoo_name = _spellings(name)[i % 6]
        key = f"c{i}"
        email = f"billing@{name.split()[0].lower()}{i}.example" if i % 3 == 0 else None
        body = {'DisplayName': qbo_name, 'CompanyName': qbo_name,
                'BillAddr': {'Line1': f"{i} Main St", 'City': 'Springfield', 'PostalCode': f"{10000 + i}",
                             'Country': 'USA'}}
        if email:
            body['PrimaryEmailAddr'] = {'Address': email}
        qbo.append({'entity': 'Customer', 'key': key, 'body': body})
        vals = {'name': odoo_name, 'is_company': True, 'zip': f"{10000 + i}"}
        if email and i % 2:
            vals['email'] = email.upper()  # e-mail case differs too
        odoo.append((f"p{i}", vals))
        labels[f"p{i}"] = key
    for i in range(10):
        name = take()
        key, email = f"ce{i}", f"accounts.{i}@{name.split()[1].lower()}.example"
        qbo.append({'entity': 'Customer', 'key': key, 'body': {
            'DisplayName': f"{name} (billing)", 'PrimaryEmailAddr': {'Address': email}}})
        odoo.append((f"pe{i}", {'name': f"{name.split()[0]} Holdings {i}", 'is_company': True, 'email': email}))
        labels[f"pe{i}"] = key
    for i in range(8):
        name = take()
        key, vat = f"ct{i}", f"US{900000000 + 1111 * i:09d}"
        qbo.append({'entity': 'Customer', 'key': key, 'body': {
            'DisplayName': f"{name} Group", 'PrimaryTaxIdentifier': vat,
            'BillAddr': {'Line1': '1 Tax Way', 'City': 'Austin', 'PostalCode': f"7{i:04d}", 'Country': 'US'}}})
        odoo.append((f"pt{i}", {'name': f"{name.split()[0]} & Partners", 'is_company': True, 'vat': vat,
                                'zip': f"7{i:04d}"}))
        labels[f"pt{i}"] = key
    for i in range(8):
        name = take()
        key = f"cm{i}"
        odoo.append((f"pm{i}", {'name': name, 'is_company': True}))
        labels[f"pm{i}"] = key
        if marker:
            qbo.append({'entity': 'Customer', 'key': key, 'body': {
                'DisplayName': f"Renamed in QuickBooks {i}", 'Notes': f"Customer since 2019\n{marker(f'pm{i}')}"}})
    # Typos in Odoo ("Alder Bok Logistics"): proposed for a person to confirm.
    for i in range(6):
        name = take()
        first, second, trade = name.split()
        qbo.append({'entity': 'Customer', 'key': f"cy{i}", 'body': {'DisplayName': name}})
        odoo.append((f"py{i}", {'name': f"{first} {second[0] + second[2:]} {trade}", 'is_company': True}))
        labels[f"py{i}"] = f"cy{i}"
    # 2. Traps. Two QuickBooks customers normalising to one name, no other evidence: a person decides.
    for i in range(5):
        name = take()
        qbo.append({'entity': 'Customer', 'key': f"ca{i}a", 'body': {'DisplayName': f"{name} Inc"}})
        qbo.append({'entity': 'Customer', 'key': f"ca{i}b", 'body': {'DisplayName': f"{name}, LLC"}})
        odoo.append((f"pa{i}", {'name': name.upper(), 'is_company': True}))
        labels[f"pa{i}"] = AMBIGUOUS
    # ... but when one of the two has the partner's e-mail, the e-mail decides.
    for i in range(3):
        name = take()
        email = f"ap@{name.split()[0].lower()}-{i}.example"
        qbo.append({'entity': 'Customer', 'key': f"cb{i}a", 'body': {'DisplayName': f"{name} Ltd"}})
        qbo.append({'entity': 'Customer', 'key': f"cb{i}b", 'body': {'DisplayName': f"The {name}",
                                                                       'PrimaryEmailAddr': {'Address': email}}})
        odoo.append((f"pb{i}", {'name': name, 'is_company': True, 'email': email}))
        labels[f"pb{i}"] = f"cb{i}b"
    # Similar but different companies (another word): never linked.
    for i in range(5):
        name = take()
        stem = ' '.join(name.split()[:2])
        qbo.append({'entity': 'Customer', 'key': f"cs{i}", 'body': {'DisplayName': f"{stem} Trading Co",
                                                                    'BillAddr': {'PostalCode': f"3{i:04d}"}}})
        odoo.append((f"ps{i}", {'name': f"{stem} Traders", 'is_company': True, 'zip': f"4{i:04d}"}))
        labels[f"ps{i}"] = None
    # A masked tax id whose visible end another company shares (other name, other postal code): no link.
    for i in range(3):
        qbo_name, odoo_name = take(), take()
        tail = f"{5000 + i}"
        qbo.append({'entity': 'Customer', 'key': f"cx{i}", 'body': {
            'DisplayName': qbo_name, 'PrimaryTaxIdentifier': f"DE11111{tail}",
            'BillAddr': {'PostalCode': f"8{i:04d}"}}})
        odoo.append((f"px{i}", {'name': odoo_name, 'is_company': True, 'vat': f"DE22222{tail}",
                                'zip': f"9{i:04d}"}))
        labels[f"px{i}"] = None
    # 3. Only in Odoo (never in QuickBooks) and only in QuickBooks (never in Odoo), up to 300 customers.
    for i in range(12):
        odoo.append((f"po{i}", {'name': f"Odoo Only Venture {i:02d}", 'is_company': True}))
        labels[f"po{i}"] = None
    i = 0
    while len(qbo) < N_CUSTOMERS:
        qbo.append({'entity': 'Customer', 'key': f"cq{i}", 'body': {'DisplayName': take()}})
        i += 1
    return qbo, odoo, labels


def items():
    """(qbo, odoo, labels) of the items, as `customers` (odoo vals are product.product values)."""
    names = _good_names()
    qbo, odoo, labels = [], [], {}
    for i in range(150):
        name = names[i]
        key = f"i{i}"
        body = {'Name': name, 'Type': 'Service', 'UnitPrice': 10 + i, 'IncomeAccountRef': {'value': '79'}}
        if i % 5 == 0:
            body['Sku'] = f"SKU-{i:04d}"
            vals = {'name': f"{name} (legacy)", 'default_code': f"sku-{i:04d}"}
        else:
            vals = {'name': (name.upper(), f"{name}.", name.replace(' ', '  '), f"the {name.lower()}")[i % 4]}
        qbo.append({'entity': 'Item', 'key': key, 'body': body})
        odoo.append((f"g{i}", dict(vals, list_price=10 + i, sale_ok=True)))
        labels[f"g{i}"] = key
    # Two items normalising to one name: a person decides.
    for i in range(4):
        name = names[150 + i]
        qbo.append({'entity': 'Item', 'key': f"ia{i}a", 'body': {'Name': name, 'Type': 'Service',
                                                                 'IncomeAccountRef': {'value': '79'}}})
        qbo.append({'entity': 'Item', 'key': f"ia{i}b", 'body': {'Name': name.replace(' ', '-'), 'Type': 'Service',
                                                                 'IncomeAccountRef': {'value': '79'}}})
        odoo.append((f"ga{i}", {'name': name.upper() + '.', 'sale_ok': True}))
        labels[f"ga{i}"] = AMBIGUOUS
    # Similar but different goods (another model).
    for i in range(4):
        name = names[154 + i]
        qbo.append({'entity': 'Item', 'key': f"is{i}", 'body': {'Name': f"{name} Mk2", 'Type': 'Service',
                                                                'IncomeAccountRef': {'value': '79'}}})
        odoo.append((f"gs{i}", {'name': f"{name} Mk3", 'sale_ok': True}))
        labels[f"gs{i}"] = None
    for i in range(8):
        odoo.append((f"go{i}", {'name': f"Odoo-only gadget {i}", 'sale_ok': True}))
        labels[f"go{i}"] = None
    i = 158
    while len(qbo) < N_ITEMS:
        qbo.append({'entity': 'Item', 'key': f"iq{i}", 'body': {'Name': names[i], 'Type': 'Service',
                                                                'IncomeAccountRef': {'value': '79'}}})
        i += 1
    return qbo, odoo, labels


def invoices(customer_keys, item_keys):
    """500 open invoices of the seeded customers, each with one or two of the seeded items."""
    out = []
    for n in range(N_INVOICES):
        lines = []
        for k in range(1 + n % 2):
            item = item_keys[(n * 7 + k * 13) % len(item_keys)]
            amount = float(20 + (n * 3 + k) % 400)
            lines.append({'DetailType': 'SalesItemLineDetail', 'Amount': amount,
                          'SalesItemLineDetail': {'ItemRef': {'value': f"@{item}"}, 'Qty': 1, 'UnitPrice': amount}})
        out.append({'entity': 'Invoice', 'key': f"inv{n}", 'body': {
            'CustomerRef': {'value': f"@{customer_keys[n % len(customer_keys)]}"}, 'DocNumber': f"QB-{n + 1:05d}",
            'TxnDate': f"20{22 + n % 3}-{1 + n % 12:02d}-{1 + n % 27:02d}", 'Line': lines}})
    return out
