-- A contact's survey answers (its page, an agent's surveys) are found by
-- the contact, not by scanning every response.
CREATE INDEX survey_responses_by_contact ON survey_responses (tenant_id, contact_source_id);
