{#- xm_link_summary against the textbook formula. A failing row is an EX x CX pair whose n
    differs from the count of complete, non-suppressed team-months with both values (the
    model's definition: a month to date is left out), or whose r
    differs (by more than 1e-6) from
    r = (n*Sxy - Sx*Sy) / sqrt((n*Sxx - Sx^2) * (n*Syy - Sy^2)) over those team-months
    (null when n < 3 or a metric takes a single value). -#}
{%- set ex_metrics = ['engagement', 'enps', 'turnover_rate'] %}
{%- set cx_metrics = ['csat', 'full_resolution_median_business_minutes',
                      'first_reply_median_business_minutes', 'one_touch_rate',
                      'sla_attainment'] %}
{%- set metric_pairs = [] %}
{%- for ex_metric in ex_metrics %}
    {%- for cx_metric in cx_metrics %}
        {%- do metric_pairs.append((ex_metric, cx_metric)) %}
    {%- endfor %}
{%- endfor %}
with

team_months as (
    select * from {{ ref('xm_team_monthly') }}
    where is_complete_month and not is_suppressed
),

sums as (
    {%- for ex_metric, cx_metric in metric_pairs %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ ex_metric }}' as ex_metric,
            '{{ cx_metric }}' as cx_metric,
            count(*) as n,
            count(distinct {{ ex_metric }}) as count_distinct_x,
            count(distinct {{ cx_metric }}) as count_distinct_y,
            sum({{ ex_metric }}) as sx,
            sum({{ cx_metric }}) as sy,
            sum({{ ex_metric }} * {{ ex_metric }}) as sxx,
            sum({{ cx_metric }} * {{ cx_metric }}) as syy,
            sum({{ ex_metric }} * {{ cx_metric }}) as sxy
        from team_months
        where {{ ex_metric }} is not null and {{ cx_metric }} is not null
    {%- endfor %}
),

expected as (
    select
        ex_metric,
        cx_metric,
        n,
        case
            when n >= 3 and count_distinct_x > 1 and count_distinct_y > 1
                then (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy))
        end as pearson_r
    from sums
)

select
    expected.ex_metric,
    expected.cx_metric,
    expected.n as expected_n,
    summary.n,
    expected.pearson_r as expected_pearson_r,
    summary.pearson_r
from expected
left join {{ ref('xm_link_summary') }} as summary
    on
        expected.ex_metric = summary.ex_metric
        and expected.cx_metric = summary.cx_metric
where
    summary.n is null
    or summary.n <> expected.n
    or (summary.pearson_r is null) <> (expected.pearson_r is null)
    or abs(summary.pearson_r - expected.pearson_r) > 1e-6
