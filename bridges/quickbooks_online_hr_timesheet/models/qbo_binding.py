from odoo import models


class QboBindingTimesheet(models.Model):
    _inherit = 'qbo.binding'

    def _qbo_marker(self):
        """A removal (deleted timesheet line) keeps the marker of the line: its time activity carries that one."""
        self.ensure_one()
        if self.res_model == 'qbo.time.activity.removal':
            removal = self._qbo_record()
            if removal and removal.marker:
                return removal.marker
        return super()._qbo_marker()
