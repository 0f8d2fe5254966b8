-- Attributes a leader groups failures by: free-form string pairs on a business service (its
-- vendor, platform, region ...) and on a change (labels: risk, change type, pipeline ...).
-- Both are JSON objects of strings; the API validates names and values before they get here.
alter table business_service
    add column attributes jsonb not null default '{}'
        check (jsonb_typeof(attributes) = 'object');
alter table change
    add column labels jsonb not null default '{}'
        check (jsonb_typeof(labels) = 'object');
