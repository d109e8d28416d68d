{#- The published flows explain the published stocks. For every row of ex_metrics_monthly:
    headcount_end = headcount_start + hires - separations + transfers_in - transfers_out,
    less the boundary events the snapshots already hold (a hire or department transfer dated
    the 1st is in headcount_start; a separation dated the last day is still in
    headcount_end). A failing row is a person counted twice, lost, or placed in the wrong
    department, or a miscounted flow or stock. It reads intermediate models as well:
    `meta.dagster.ref` shows it as a check of the mart. -#}
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'ex_metrics_monthly'}}}) }}

with

months as (
    select * from {{ ref('int_ex_months') }}
),

boundary_events as (
    select
        movements.month,
        movements.department,
        sum(case
            when movements.movement_type = 'hire' and movements.movement_date = months.month
                then 1 else 0
        end) as hires_on_first_day,
        sum(case
            when
                movements.movement_type = 'separation'
                and movements.movement_date = months.month_end_date
                then 1 else 0
        end) as separations_on_last_day,
        sum(case
            when
                movements.movement_type = 'transfer_in' and movements.is_department_change
                and movements.movement_date = months.month
                then 1 else 0
        end) as transfers_in_on_first_day,
        sum(case
            when
                movements.movement_type = 'transfer_out' and movements.is_department_change
                and movements.movement_date = months.month
                then 1 else 0
        end) as transfers_out_on_first_day
    from {{ ref('int_employee_movements') }} as movements
    inner join months
        on movements.month = months.month
    group by movements.month, movements.department
),

reconciled as (
    select
        mart.month,
        mart.department,
        mart.headcount_start,
        mart.headcount_end,
        mart.hires,
        mart.separations,
        mart.transfers_in,
        mart.transfers_out,
        mart.headcount_start
        + (mart.hires - coalesce(boundary_events.hires_on_first_day, 0))
        - (mart.separations - coalesce(boundary_events.separations_on_last_day, 0))
        + (mart.transfers_in - coalesce(boundary_events.transfers_in_on_first_day, 0))
        - (mart.transfers_out - coalesce(boundary_events.transfers_out_on_first_day, 0))
            as headcount_end_from_flows
    from {{ ref('ex_metrics_monthly') }} as mart
    left join boundary_events
        on
            mart.month = boundary_events.month
            and mart.department = boundary_events.department
)

select *
from reconciled
where headcount_end <> headcount_end_from_flows
