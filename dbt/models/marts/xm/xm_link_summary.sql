{#- Does employee experience go with customer experience? For every pair of an EX metric
    (engagement, enps, turnover_rate) and a CX metric (csat,
    full_resolution_median_business_minutes, first_reply_median_business_minutes,
    one_touch_rate, sla_attainment): the Pearson correlation over the complete team-months of
    xm_team_monthly (is_complete_month: a month to date would weigh a partial month like a
    whole one) that are not suppressed and have both values, and their number n. `pearson_r` is null when
    n < 3 (two points always give +-1) or either metric takes a single value. All fifteen pairs are
    always present. -#}
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

metric_pairs as (
    {%- for ex_metric, cx_metric in metric_pairs %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ ex_metric }}' as ex_metric,
            '{{ cx_metric }}' as cx_metric
    {%- endfor %}
),

paired_values as (
    {%- for ex_metric, cx_metric in metric_pairs %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            '{{ ex_metric }}' as ex_metric,
            '{{ cx_metric }}' as cx_metric,
            cast(team_months.{{ ex_metric }} as {{ ex_type_double() }}) as ex_value,
            cast(team_months.{{ cx_metric }} as {{ ex_type_double() }}) as cx_value
        from team_months
        where
            team_months.{{ ex_metric }} is not null
            and team_months.{{ cx_metric }} is not null
    {%- endfor %}
),

correlations as (
    select
        paired_values.ex_metric,
        paired_values.cx_metric,
        count(*) as n,
        corr(paired_values.ex_value, paired_values.cx_value) as pearson_r,
        count(distinct paired_values.ex_value) as count_distinct_ex_values,
        count(distinct paired_values.cx_value) as count_distinct_cx_values
    from paired_values
    group by paired_values.ex_metric, paired_values.cx_metric
)

select
    cast(metric_pairs.ex_metric as {{ dbt.type_string() }}) as ex_metric,
    cast(metric_pairs.cx_metric as {{ dbt.type_string() }}) as cx_metric,
    cast(coalesce(correlations.n, 0) as {{ dbt.type_bigint() }}) as n,
    cast(
        case
            when
                correlations.n >= 3
                and correlations.count_distinct_ex_values > 1
                and correlations.count_distinct_cx_values > 1
                then correlations.pearson_r
        end
        as {{ ex_type_double() }}
    ) as pearson_r
from metric_pairs
left join correlations
    on
        metric_pairs.ex_metric = correlations.ex_metric
        and metric_pairs.cx_metric = correlations.cx_metric
