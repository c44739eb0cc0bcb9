-- A neutralized (copied) database must never talk to the production QuickBooks company.
DELETE FROM qbo_token;
DELETE FROM qbo_oauth_nonce;
-- The verifier token too: a copy must not accept notifications signed for production.
UPDATE qbo_connection SET state = 'disconnected', client_secret = NULL, webhook_verifier_token = NULL;
UPDATE ir_cron SET active = false WHERE id IN (
    SELECT res_id FROM ir_model_data WHERE module = 'quickbooks_online' AND model = 'ir.cron');
