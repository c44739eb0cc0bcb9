-- A neutralized (copied) database must never talk to the production QuickBooks company.
DELETE FROM qbo_token;
UPDATE qbo_connection SET state = 'disconnected', client_secret = NULL;
UPDATE ir_cron SET active = false WHERE id IN (
    SELECT res_id FROM ir_model_data WHERE module = 'quickbooks_online' AND model = 'ir.cron');
