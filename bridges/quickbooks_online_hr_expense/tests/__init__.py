from . import test_qbo_expense
from . import test_qbo_expense_chaos
from . import test_qbo_expense_tour
