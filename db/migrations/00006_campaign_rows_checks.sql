-- +goose Up
-- campaign_rows loses two checks that the import makes already and that took most of the COPY
-- of a 100,000-row campaign: the foreign key of campaign_id (a check per row, about 40% of
-- the time) and the unique index on (campaign_id, iupd) (another 25%). Rows are only inserted
-- by the import, in the transaction that creates their campaign (campaigns are never
-- deleted), after it has refused a file with the same iupd twice; no query looks rows up by
-- iupd within a campaign.
ALTER TABLE campaign_rows
    DROP CONSTRAINT campaign_rows_campaign_id_fkey,
    DROP CONSTRAINT campaign_rows_campaign_id_iupd_key;

-- +goose Down
ALTER TABLE campaign_rows
    ADD CONSTRAINT campaign_rows_campaign_id_iupd_key UNIQUE (campaign_id, iupd),
    ADD CONSTRAINT campaign_rows_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES campaigns (id);
