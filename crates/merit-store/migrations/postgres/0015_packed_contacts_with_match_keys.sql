-- Packed days of contacts in their second form (tag MPC2): each row starts
-- with its customer's match key and its length, so the report cache's
-- update reads only the rows of the customers an import touched. Days in
-- the first form are dropped here and packed again from the current rows
-- on this migration's run (packed_days_pending).
DELETE FROM contact_days;
INSERT INTO packed_days_pending (tenant_id)
    SELECT tenant_id FROM contacts UNION SELECT tenant_id FROM survey_responses
    ON CONFLICT DO NOTHING;
