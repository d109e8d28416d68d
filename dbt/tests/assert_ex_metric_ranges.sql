-- A failing row is a month and department of ex_metrics_monthly with a figure outside its
-- possible range: a negative count or turnover rate, eNPS outside -100..100, engagement
-- outside 0..100, more eNPS answers (promoters + passives + detractors) than respondents
-- (fewer is fine: a respondent may skip the eNPS item), more favorable engagement answers
-- than answers, or more typed (voluntary + involuntary) separations than separations (an
-- untyped termination counts in separations only).
{{ config(severity='error') }}

select
    month,
    department,
    headcount_start,
    headcount_end,
    hires,
    separations,
    voluntary_separations,
    involuntary_separations,
    transfers_in,
    transfers_out,
    turnover_rate,
    voluntary_turnover_rate,
    involuntary_turnover_rate,
    respondents,
    enps_promoters,
    enps_passives,
    enps_detractors,
    enps,
    engagement_answers,
    engagement_favorable,
    engagement
from {{ ref('ex_metrics_monthly') }}
where
    headcount_start < 0
    or headcount_end < 0
    or hires < 0
    or separations < 0
    or voluntary_separations < 0
    or involuntary_separations < 0
    or transfers_in < 0
    or transfers_out < 0
    or turnover_rate < 0
    or voluntary_turnover_rate < 0
    or involuntary_turnover_rate < 0
    or enps < -100 or enps > 100
    or engagement < 0 or engagement > 100
    or enps_promoters + enps_passives + enps_detractors > respondents
    or engagement_favorable > engagement_answers
    or voluntary_separations + involuntary_separations > separations
