import logging

from odoo import _, api, models

from .. import const
from ..tools import QboError

_logger = logging.getLogger(__name__)


class QboExporterAttachment(models.AbstractModel):
    """Attaches a sent document's file in QuickBooks (an Attachable linked to it), once, when the
    connection's 'Attach documents' is on: the invoice's PDF, a bill's main attachment (the vendor's
    scan). Called by the document exporters after QuickBooks holds the document.

    Once: the upload's requestid is derived from the document and the file (not from the document's
    intent, which stays the document's own), so a retry after a lost answer is replayed by QuickBooks,
    and the Attachable's Id is kept on the link. A file QuickBooks does not take (type, size) is noted
    on the document once, never sent; a failed upload never fails the document itself.
    """
    _name = 'qbo.exporter.attachment'
    _description = 'QuickBooks Online attachment exporter'

    @api.model
    def _qbo_file_of(self, move):
        """The ir.attachment to attach: the invoice's PDF (or its main attachment), a bill's main one."""
        if move.move_type in ('out_invoice', 'out_refund') and move.invoice_pdf_report_id:
            return move.invoice_pdf_report_id
        return move.message_main_attachment_id

    @api.model
    def _qbo_attach(self, binding, move, client):
        """Upload the document's file to QuickBooks and link it to `binding`'s object, unless done."""
        connection = binding.connection_id
        if not connection.send_attachments or binding.qbo_attachable_id or not binding.qbo_id:
            return
        attachment = self._qbo_file_of(move.sudo())
        if not attachment:
            return
        if attachment.mimetype not in const.ATTACHMENT_CONTENT_TYPES or \
                (attachment.file_size or 0) > const.ATTACHMENT_MAX_BYTES:
            binding.qbo_attachable_id = 'refused'
            move.sudo().message_post(body=_(
                "%(file)s was not attached in QuickBooks: QuickBooks takes PDF, images, office documents, text and "
                "CSV files of up to 100 MB (this one: %(type)s, %(size)s bytes).", file=attachment.name,
                type=attachment.mimetype, size=attachment.file_size), message_type='comment',
                subtype_xmlid='mail.mt_note')
            return
        request_id = binding._qbo_make_request_id(connection, move._name, move.id, f'attach-{attachment.id}',
                                                  binding.qbo_id)
        try:
            attachable = client.upload(binding.entity, binding.qbo_id, attachment.name[:const.FILE_NAME_MAX_LENGTH],
                                       attachment.mimetype, attachment.raw, request_id,
                                       res_ref=f"{move._name},{move.id}")
        except QboError as exc:
            _logger.info("QuickBooks: %s not attached to %s %s: %s", attachment.name, binding.entity,
                         binding.qbo_id, exc)
            move.sudo().message_post(body=_("%(file)s could not be attached in QuickBooks (%(error)s); it is tried "
                                            "again the next time the document is sent.", file=attachment.name,
                                            error=exc), message_type='comment', subtype_xmlid='mail.mt_note')
            return
        binding.qbo_attachable_id = attachable['Id']
