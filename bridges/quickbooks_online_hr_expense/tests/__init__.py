from . import test_qbo_expense
