{
    'name': 'QuickBooks Online Connector - Expenses',
    'version': '1.0.0',  # Odoo prefixes the running series: 18.0.1.0.0 / 19.0.1.0.0
    'category': 'Accounting/Accounting',
    'summary': 'Send employee expenses to QuickBooks Online: bills to the employee, company-card purchases, '
               'exactly once.',
    'author': 'QuickBooks Online connector team',
    'website': 'https://github.com/',
    'license': 'LGPL-3',
    # A bridge: installed by itself when both the connector and Expenses are.
    'depends': ['quickbooks_online', 'hr_expense'],
    'auto_install': True,
    'data': [
        'data/qbo_server_actions.xml',
        'views/hr_expense_views.xml',
        'views/res_config_settings_views.xml',
    ],
    'assets': {
        'web.assets_tests': [
            'quickbooks_online_hr_expense/static/tests/tours/**/*',
        ],
    },
}
