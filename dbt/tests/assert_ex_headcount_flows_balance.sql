{#- Headcount and movements tell the same story. For every month and department:
    headcount_end - headcount_start = hires after the first day - separations before the
    last day + department transfers in - out after the first day (a hire or transfer on the
    first day is already in headcount_start; someone leaving on the last day is still in
    headcount_end). A failing row is a month and department where they disagree: a person
    counted twice, lost, or placed in the wrong department. The headcounts are those
    ex_metrics_monthly publishes (the department rows of int_ex_group_monthly). -#}
with

months as (
    select * from {{ ref('int_ex_months') }}
),

headcounts as (
    select * from {{ ref('int_ex_group_monthly') }}
    where group_level = 'department'
),

movements as (
    select * from {{ ref('int_employee_movements') }}
),

flows as (
    select
        movements.month,
        movements.department,
        sum(
            case
                when movements.movement_type = 'hire' and movements.movement_date > months.month then 1
                when movements.movement_type = 'separation' and movements.movement_date < months.month_end_date then -1
                when
                    movements.movement_type = 'transfer_in' and movements.is_department_change
                    and movements.movement_date > months.month then 1
                when
                    movements.movement_type = 'transfer_out' and movements.is_department_change
                    and movements.movement_date > months.month then -1
                else 0
            end
        ) as net_flow
    from movements
    inner join months
        on movements.month = months.month
    group by movements.month, movements.department
),

compared as (
    select
        coalesce(headcounts.month, flows.month) as month,
        coalesce(headcounts.group_name, flows.department) as department,
        coalesce(headcounts.headcount_start, 0) as headcount_start,
        coalesce(headcounts.headcount_end, 0) as headcount_end,
        coalesce(flows.net_flow, 0) as net_flow
    from headcounts
    full outer join flows
        on
            headcounts.month = flows.month
            and headcounts.group_name = flows.department
)

select *
from compared
where headcount_end - headcount_start <> net_flow
