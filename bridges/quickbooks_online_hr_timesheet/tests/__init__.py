from . import test_qbo_timesheet
from . import test_qbo_timesheet_tour
from . import test_qbo_timesheet_grouped
from . import test_qbo_timesheet_chaos
