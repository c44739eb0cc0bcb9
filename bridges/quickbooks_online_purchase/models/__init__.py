from . import qbo_connection
from . import qbo_mapper_payables
from . import qbo_exporter_purchase_order
from . import purchase_order
from . import purchase_order_line
from . import account_move
from . import res_config_settings
