-- A failing row is a customer survey answer outside its question's scale (NPS 0-10, CSAT
-- 1-5, CES 1-7): staging should have quarantined it, and it would distort the metrics.
select
    response_id,
    survey_kind,
    score
from {{ ref('fct_survey_responses') }}
where
    (survey_kind = 'nps' and (score < 0 or score > 10))
    or (survey_kind = 'csat' and (score < 1 or score > 5))
    or (survey_kind = 'ces' and (score < 1 or score > 7))
