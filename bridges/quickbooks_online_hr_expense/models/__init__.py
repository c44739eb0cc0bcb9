from odoo.addons.hr_expense import models as hr_expense_models

from . import account_move
from . import qbo_connection
from . import qbo_mapper
from . import qbo_mapper_payables
from . import qbo_exporter_bill
from . import qbo_exporter_expense
from . import qbo_exporter_attachment
from . import qbo_payment_import
from . import account_payment
from . import hr_expense
from . import res_config_settings

# 18.0's expense reports (hr.expense.sheet); 19.0 has none: its expenses are posted one by one.
if hasattr(hr_expense_models, 'hr_expense_sheet'):
    from . import hr_expense_sheet
