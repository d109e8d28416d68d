-- A failing row is a month of cx_metrics_monthly whose NPS does not follow from its parts:
-- promoters + passives + detractors differ from respondents, or nps differs from
-- 100 x (promoters - detractors) / respondents (or is not null without respondents).
select
    month,
    nps_respondents,
    nps_promoters,
    nps_passives,
    nps_detractors,
    nps
from {{ ref('cx_metrics_monthly') }}
where
    nps_promoters + nps_passives + nps_detractors <> nps_respondents
    or (nps_respondents = 0 and nps is not null)
    or (
        nps_respondents > 0
        and abs(nps - 100.0 * (nps_promoters - nps_detractors) / nps_respondents) > 1e-9
    )
