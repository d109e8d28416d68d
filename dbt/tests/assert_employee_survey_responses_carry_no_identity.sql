-- A failing row: an employee pulse (enps) response in staging that carries an identity
-- field (a ticket id or an email). The pulse is anonymous at the source; staging must keep
-- it so, whatever the raw JSON holds.
select
    response_id,
    ticket_id,
    respondent_email
from {{ ref('stg_qualtrics__survey_responses') }}
where
    survey_kind = 'enps'
    and (ticket_id is not null or respondent_email is not null)
