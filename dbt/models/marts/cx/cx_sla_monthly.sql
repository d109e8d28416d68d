{#- SLA attainment per UTC month of the outcome x SLA metric x priority x team (the team
    of the assignee when the SLA applied; null = unassigned or not a known employee):
    achieved and breached instances of fct_sla_outcomes decided in the month, and
    `attainment` = 100 x achieved / (achieved + breached). Active and paused instances are
    not decided and not counted. Ratios ship with their parts, so any roll-up is
    sum(achieved) / sum(achieved + breached). `is_complete_month`: the help desk has been
    loaded past the month's end. -#}
with

outcomes as (
    select * from {{ ref('fct_sla_outcomes') }}
    where status in ('achieved', 'breached')
),

horizons as (
    select * from {{ ref('int_source_horizons') }}
),

grouped as (
    select
        outcome_month as month,
        sla_metric,
        priority,
        team,
        sum(case when status = 'achieved' then 1 else 0 end) as achieved,
        sum(case when status = 'breached' then 1 else 0 end) as breached
    from outcomes
    group by outcome_month, sla_metric, priority, team
)

select
    grouped.month,
    cast(grouped.sla_metric as {{ dbt.type_string() }}) as sla_metric,
    cast(grouped.priority as {{ dbt.type_string() }}) as priority,
    cast(grouped.team as {{ dbt.type_string() }}) as team,
    coalesce(
        horizons.zendesk_loaded_through_date
        >= cast({{ dbt.dateadd('month', 1, 'grouped.month') }} as date),
        false
    ) as is_complete_month,
    cast(grouped.achieved as {{ dbt.type_bigint() }}) as achieved,
    cast(grouped.breached as {{ dbt.type_bigint() }}) as breached,
    {{ ex_ratio('grouped.achieved', 'grouped.achieved + grouped.breached', 100) }} as attainment
from grouped
cross join horizons
