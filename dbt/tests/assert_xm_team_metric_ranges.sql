-- A failing row is a month and team of xm_team_monthly with a figure outside its possible
-- range: a negative count, turnover rate or median time, eNPS outside -100..100,
-- engagement or CSAT outside 0..100, a one-touch rate outside 0..1, or a numerator above
-- its denominator (eNPS answers above respondents, favorable engagement answers above
-- answers, satisfied CSAT answers above answers, one-touch tickets above tickets solved).
{{ config(severity='error') }}

select
    month,
    team,
    headcount_start,
    headcount_end,
    separations,
    turnover_rate,
    respondents,
    enps_promoters,
    enps_passives,
    enps_detractors,
    enps,
    engagement_answers,
    engagement_favorable,
    engagement,
    tickets_solved,
    csat_responses,
    csat_satisfied,
    csat,
    one_touch_tickets,
    one_touch_rate,
    full_resolution_median_business_minutes,
    first_reply_median_business_minutes
from {{ ref('xm_team_monthly') }}
where
    headcount_start < 0
    or headcount_end < 0
    or separations < 0
    or turnover_rate < 0
    or tickets_solved < 0
    or enps < -100 or enps > 100
    or engagement < 0 or engagement > 100
    or csat < 0 or csat > 100
    or one_touch_rate < 0 or one_touch_rate > 1
    or full_resolution_median_business_minutes < 0
    or first_reply_median_business_minutes < 0
    or enps_promoters + enps_passives + enps_detractors > respondents
    or engagement_favorable > engagement_answers
    or csat_satisfied > csat_responses
    or one_touch_tickets > tickets_solved
